extension ElementType {
    /// The bytes an array of `shape` occupies, or nil if a dimension is negative or the count
    /// overflows `Int` (file headers can claim any shape, so this never traps).
    func byteCount(shape: [Int]) -> Int? {
        var count = byteCount
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else { return nil }
            count = product
        }
        return count
    }
}
