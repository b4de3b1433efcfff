import Foundation

/// A point in time with millisecond resolution, the unit MLflow and the stores use.
public struct Timestamp: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) { self.millisecondsSince1970 = millisecondsSince1970 }
    public init(_ date: Date) { millisecondsSince1970 = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.millisecondsSince1970 < b.millisecondsSince1970 }

    /// ISO 8601 in UTC with milliseconds, e.g. `2026-11-29T01:14:20.123Z`.
    public var description: String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// `2026-11-29 01:14:20`: UTC to the second, as tables and pages show times.
    public var readable: String {
        String(Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt).format(date).dropLast())  // drop the Z
    }

    public init(from decoder: any Decoder) throws {
        millisecondsSince1970 = try decoder.singleValueContainer().decode(Int64.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(millisecondsSince1970)
    }
}

/// Where "now" comes from; injected so tests can hold time still.
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

/// The machine's clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Timestamp { Timestamp(Date()) }
}
