import ArgumentParser

/// A size in bytes given on the command line as `1073741824`, `512M`, `2G` or `64MiB`
/// (K, M, G, T are powers of 1024, with or without `iB`/`B`).
struct MemorySize: CustomStringConvertible {
    /// The size.
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    /// Parses `argument`.
    /// - Throws: `CLIError` saying what a size is: a whole number of bytes from 1, with an optional unit.
    init(parsing argument: String) throws {
        var text = Substring(argument.trimmingCharacters(in: .whitespaces)).uppercased()[...]
        for suffix in ["IB", "B"] where text.hasSuffix(suffix) { text = text.dropLast(suffix.count); break }
        let units: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
        var shift = 0
        if let last = text.last, let unit = units[last] { shift = unit; text = text.dropLast() }
        guard let number = Int(text), number > 0, number <= Int.max >> shift else {
            throw CLIError("a size is a whole number of bytes ≥ 1, optionally with K, M, G or T (powers of 1024), "
                           + "e.g. 536870912, 512M or 2G")
        }
        bytes = number << shift
    }

    /// The size in the largest unit that divides it (`512M`).
    var description: String {
        for (unit, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] where bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }
}
