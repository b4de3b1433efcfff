import FlywheelCore
import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
///
/// Fields take `*`, numbers, ranges `1-5`, steps `*/15` and `10-50/10`, lists `1,15,30`, and
/// names for months (`jan`) and weekdays (`mon`; 0 and 7 are Sunday). As in Vixie cron, when
/// both day fields are restricted a day matches if either does.
///
/// ```swift
/// let nightly = try CronSchedule(parsing: "0 3 * * *")
/// let next = nightly.next(after: now)
/// ```
public struct CronSchedule: Hashable, Sendable, CustomStringConvertible {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    public let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    public let description: String

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(parsing text: String) throws {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw FlywheelError.invalidArgument(
                "'\(text)' has \(fields.count) fields; expected 5: minute hour day-of-month month day-of-week")
        }
        minutes = try Self.field(fields[0], "minute", 0...59, names: [])
        hours = try Self.field(fields[1], "hour", 0...23, names: [])
        daysOfMonth = try Self.field(fields[2], "day-of-month", 1...31, names: [])
        months = try Self.field(fields[3], "month", 1...12, names: Self.monthNames, nameBase: 1)
        var dow = try Self.field(fields[4], "day-of-week", 0...7, names: Self.dayNames)
        if dow.remove(7) != nil { dow.insert(0) }
        daysOfWeek = dow
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
        description = text
    }

    static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String], nameBase: Int = 0) throws -> Set<Int> {
        func value(_ s: Substring) throws -> Int {
            if let i = Int(s), range.contains(i) { return i }
            if let i = names.firstIndex(of: s.lowercased()) { return i + nameBase }
            throw FlywheelError.invalidArgument(
                "\(name) field: '\(s)' is not valid; expected \(range.lowerBound)–\(range.upperBound)"
                    + (names.isEmpty ? "" : " or a name like \(names[0])"))
        }
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw FlywheelError.invalidArgument("\(name) field '\(text)' has an empty list item") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw FlywheelError.invalidArgument("\(name) field: '\(part)' has more than one '/'") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s >= 1 else {
                    throw FlywheelError.invalidArgument("\(name) field: step '\(pieces[1])' must be a whole number ≥ 1")
                }
                step = s
            }
            let base = pieces[0]
            var lo = range.lowerBound, hi = range.upperBound
            if base != "*" {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw FlywheelError.invalidArgument("\(name) field: '\(base)' is not a value or a range") }
                lo = try value(ends[0])
                hi = ends.count == 2 ? try value(ends[1]) : (pieces.count == 2 ? range.upperBound : lo)
                guard lo <= hi else { throw FlywheelError.invalidArgument("\(name) field: range '\(base)' runs backwards") }
            }
            out.formUnion(stride(from: lo, through: hi, by: step))
        }
        return out
    }

    /// Whether the schedule fires in the minute that starts at `date` (UTC).
    public func matches(_ date: Date) -> Bool {
        let c = Self.calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        guard let mi = c.minute, let h = c.hour, let d = c.day, let mo = c.month, let wd = c.weekday else { return false }
        guard minutes.contains(mi), hours.contains(h), months.contains(mo) else { return false }
        let domOK = daysOfMonth.contains(d), dowOK = daysOfWeek.contains(wd - 1)
        if dayOfMonthRestricted && dayOfWeekRestricted { return domOK || dowOK }
        return domOK && dowOK
    }

    /// The first fire time strictly after `time`, or nil if none within eight years (e.g. `0 0 31 2 *`).
    public func next(after time: Timestamp) -> Timestamp? {
        // Start at the next whole minute.
        var minute = (time.millisecondsSince1970 / 60_000 + 1) * 60_000
        let limit = minute + 8 * 366 * 86_400_000
        while minute < limit {
            let date = Date(timeIntervalSince1970: Double(minute) / 1000)
            let c = Self.calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
            // Skip whole days or hours that cannot match, so a sparse schedule is found quickly.
            if let mo = c.month, !months.contains(mo) {
                minute = Self.startOfNextDay(minute)
                continue
            }
            if let d = c.day, let wd = c.weekday {
                let domOK = daysOfMonth.contains(d), dowOK = daysOfWeek.contains(wd - 1)
                let dayOK = dayOfMonthRestricted && dayOfWeekRestricted ? (domOK || dowOK) : (domOK && dowOK)
                if !dayOK {
                    minute = Self.startOfNextDay(minute)
                    continue
                }
            }
            if let h = c.hour, !hours.contains(h) {
                minute = (minute / 3_600_000 + 1) * 3_600_000
                continue
            }
            if let mi = c.minute, minutes.contains(mi) { return Timestamp(millisecondsSince1970: minute) }
            minute += 60_000
        }
        return nil
    }

    static func startOfNextDay(_ ms: Int64) -> Int64 { (ms / 86_400_000 + 1) * 86_400_000 }

    static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? c.timeZone
        return c
    }()
}
