/// Why an `.npz` archive could not be read or written.
///
/// Every case names the archive (and the member or array at fault); `description` is a sentence
/// that starts with the archive's path.
public enum NPZError: Error, CustomStringConvertible, Equatable {
    /// The archive could not be opened, mapped or written.
    case fileAccess(FileAccessError)
    /// The archive is not a readable ZIP file, or one of its members is damaged.
    case archive(ZipArchiveError)
    /// A member's name does not end in `.npy`.
    case notNPY(path: String, member: String)
    /// Two members (or two arrays to write) are called `name`.
    case duplicateName(path: String, name: String)
    /// A member is not a valid `.npy` file; the error's name is "PATH member 'NAME.npy'".
    case array(NPYError)
    /// An array to write has an element type NumPy lacks (bfloat16).
    case unsupportedElementType(path: String, name: String, elementType: ElementType)

    /// A sentence starting with the archive's path that says what is wrong.
    public var description: String {
        switch self {
        case .fileAccess(let error):
            return error.description
        case .archive(let error):
            return error.description
        case .notNPY(let path, let member):
            return "\(path): member '\(member)' is not a .npy file "
                + "(an .npz archive holds only NAME.npy members)"
        case .duplicateName(let path, let name):
            return "\(path): the archive holds more than one array called '\(name)'"
        case .array(let error):
            return error.description
        case .unsupportedElementType(let path, let name, let elementType):
            return "\(path): array '\(name)' is \(elementType.rawValue), which NumPy cannot store; "
                + "convert it to float32 first"
        }
    }
}
