/// Data that cannot be drawn as asked.
public enum PictureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A channel list names a channel the data does not have.
    case channelOutOfRange(channel: Int, channels: Int)
    /// A channel list is not of the form `0-4,7,9`.
    case malformedChannelList(String)
    /// A channel list names a channel more than once.
    case duplicateChannel(channel: Int, list: String)
    /// The tensor is not the shape the picture needs.
    case shape(expected: String, actual: [Int])
    /// There is nothing to draw.
    case empty(String)
    /// Tiles of `height`×`width` for `channels` channels need more than `Image.maxPixels` pixels.
    case tooLarge(channels: Int, height: Int, width: Int)
    /// A weight matrix of `rows`×`columns` needs a picture of more than `Image.maxPixels` pixels.
    case matrixTooLarge(rows: Int, columns: Int)

    /// A sentence saying what is wrong.
    public var description: String {
        switch self {
        case .channelOutOfRange(let channel, let channels):
            return "channel \(channel) is out of range: the data has channels 0–\(channels - 1)"
        case .malformedChannelList(let text):
            return "'\(text)' is not a channel list (e.g. 0-4 or 0,2,5-7)"
        case .duplicateChannel(let channel, let list):
            return "'\(list)' names channel \(channel) more than once; list each channel once"
        case .shape(let expected, let actual):
            return "shape \(actual) cannot be drawn: expected \(expected)"
        case .empty(let what):
            return "nothing to draw: \(what)"
        case .tooLarge(let channels, let height, let width):
            return "\(channels) channel(s) of \(height)×\(width) make a picture of more than \(Image.maxPixels) "
                + "pixels; choose fewer channels"
        case .matrixTooLarge(let rows, let columns):
            return "a \(rows)×\(columns) weight matrix makes a picture of more than \(Image.maxPixels) pixels"
        }
    }
}

/// Parses channel lists like `0-4,7,9-10` (ranges inclusive).
public enum ChannelList {
    /// The channels of `text`, in order, each checked against `count`.
    /// - Throws: `PictureError` for a malformed list, a channel outside 0..<count, or one named twice.
    public static func parse(_ text: String, count: Int) throws(PictureError) -> [Int] {
        var channels: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 != nil }) else { throw .malformedChannelList(text) }
            let (low, high) = (bounds[0]!, bounds.last!!)
            guard low <= high else { throw .malformedChannelList(text) }
            for channel in [low, high] where channel < 0 || channel >= count {
                throw .channelOutOfRange(channel: channel, channels: count)
            }
            guard high - low < 4096 else { throw .malformedChannelList(text) }
            channels += Array(low...high)
        }
        var seen = Set<Int>()
        if let twice = channels.first(where: { !seen.insert($0).inserted }) {
            throw .duplicateChannel(channel: twice, list: text)
        }
        return channels
    }
}

import Foundation
