import Foundation

/// Reads and writes PNG files (spec: https://www.w3.org/TR/png/).
///
/// Decoding accepts every color type at every bit depth PNG allows, interlaced (Adam7) or not, and
/// produces an `Image` of 8 or 16 bits:
/// - gray (type 0) → 1 channel, RGB (2) → 3, gray + alpha (4) → 2, RGBA (6) → 4;
/// - palette (3) → 3 channels (RGB), or 4 (RGBA) when the file has a tRNS chunk; entries beyond
///   the tRNS chunk's length are opaque (255);
/// - gray at 1, 2 or 4 bits is scaled to 8 bits by `v * 255 / (2^depth − 1)` (exact: ×255, ×85,
///   ×17), so 1-bit 1 becomes 255 and 4-bit 9 becomes 153;
/// - 16-bit files keep 16 bits; everything else becomes 8 bits.
///
/// What is ignored: tRNS for gray and RGB images (the single transparent color is not turned into
/// alpha, as most viewers' RGB conversions also ignore it), every ancillary chunk (gamma, color
/// profiles, text, …), and anything after IEND.
///
/// What is rejected, with a `PNGError` naming the file: a bad signature, truncated chunks, chunk
/// lengths above 2³¹ − 1, a CRC mismatch in any chunk (ancillary ones included), IHDR missing,
/// repeated or not first, invalid color type / bit depth combinations, zero or more than
/// `Image.maxPixels` pixels, PLTE missing for palette images or present for gray ones, a
/// palette's tRNS misplaced or longer than the palette, IDAT chunks that are not consecutive, a
/// missing IEND (strict: a file without one was usually cut short), unknown critical chunks,
/// corrupt or incomplete zlib data, too little or too much image data, undefined filter types and
/// out-of-range palette indices. The decoder allocates at most what the header's size implies,
/// and never more than the compressed data can inflate to.
///
/// Encoding writes gray, gray + alpha, RGB and RGBA at 8 or 16 bits, non-interlaced, with each
/// row's filter chosen by libpng's heuristic (the smallest sum of absolute filtered bytes).
public enum PNG {
    /// Decodes the bytes of a PNG file.
    ///
    /// - Parameters:
    ///   - data: The complete file contents.
    ///   - name: A file path or label that starts every error message.
    /// - Returns: The image: `width × height` pixels of 1 to 4 channels at 8 or 16 bits.
    /// - Throws: `PNGError` if the bytes are not a valid PNG (see the type's documentation).
    public static func decode(_ data: Data, name: String) throws(PNGError) -> Image {
        // `withUnsafeBytes` is rethrows (untyped), so carry the typed error out in a Result.
        try data.withUnsafeBytes { bytes in
            Result { () throws(PNGError) in try decode(bytes: bytes, name: name) }
        }.get()
    }

    /// Reads and decodes the PNG file at `path` (mapped into memory, not copied).
    ///
    /// - Parameter path: The file; it starts every error message.
    /// - Returns: The image: `width × height` pixels of 1 to 4 channels at 8 or 16 bits.
    /// - Throws: `PNGError.file` if the file cannot be opened, otherwise what `decode(_:name:)` throws.
    public static func read(path: String) throws(PNGError) -> Image {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .file(error) }
        return try withExtendedLifetime(file) { () throws(PNGError) in try decode(bytes: file.bytes, name: path) }
    }

    /// Encodes an image as a PNG file: non-interlaced, zlib-compressed, adaptive filters.
    ///
    /// Gray, gray + alpha, RGB and RGBA map to color types 0, 4, 2 and 6 at the image's bit depth.
    /// - Parameter image: The image (any `Image` is valid).
    /// - Returns: The complete file contents.
    public static func encode(_ image: Image) -> Data {
        encodeFile(image)
    }

    /// Writes an image to `path` as a PNG file, atomically (see `AtomicFile`).
    ///
    /// - Parameters:
    ///   - image: The image to write.
    ///   - path: The destination; an existing file is replaced.
    /// - Throws: `PNGError.file` if the file cannot be written.
    public static func write(_ image: Image, to path: String) throws(PNGError) {
        do { try AtomicFile.write(encode(image), to: path) } catch { throw .file(error) }
    }
}
