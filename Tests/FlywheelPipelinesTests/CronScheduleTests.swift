import FlywheelCore
import FlywheelPipelines
import Foundation
import Testing

@Suite struct CronScheduleTests {
    static func utc(_ text: String) -> Timestamp {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return Timestamp(f.date(from: text)!)
    }

    @Test(arguments: [
        ("0 3 * * *", "2026-11-29T03:58:00Z", "2026-11-30T03:00:00Z"),
        ("0 3 * * *", "2026-11-29T02:59:59Z", "2026-11-29T03:00:00Z"),
        ("*/15 9-17 * * mon-fri", "2026-11-28T10:00:00Z", "2026-11-30T09:00:00Z"),  // Saturday → Monday
        ("*/15 9-17 * * mon-fri", "2026-11-30T17:45:00Z", "2026-12-01T09:00:00Z"),
        ("10-50/20 * * * *", "2026-01-01T00:31:00Z", "2026-01-01T00:50:00Z"),
        ("0 0 1,15 * *", "2026-02-01T00:00:00Z", "2026-02-15T00:00:00Z"),
        ("0 0 13 * fri", "2026-11-29T00:00:00Z", "2026-12-04T00:00:00Z"),  // either day field may match
        ("30 12 * jan,jul sun", "2026-11-29T00:00:00Z", "2027-01-03T12:30:00Z"),
        ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 * * 7", "2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z"),  // 7 is Sunday too
    ])
    func nextFireTimes(_ expr: String, _ after: String, _ expected: String) throws {
        let c = try CronSchedule(parsing: expr)
        #expect(c.next(after: Self.utc(after)) == Self.utc(expected))
        #expect(c.matches(Self.utc(expected).date))
    }

    @Test func impossibleSchedulesHaveNoNextTime() throws {
        #expect(try CronSchedule(parsing: "0 0 31 2 *").next(after: Self.utc("2026-01-01T00:00:00Z")) == nil)
    }

    /// `next` skips whole hours and days; a plain minute-by-minute scan with `matches` must agree.
    @Test func nextAgreesWithAMinuteByMinuteScan() throws {
        var rng = SeededRandom(seed: 11)
        let fields: [[String]] = [
            ["*", "0", "*/7", "5-20/5", "0,30", "59"], ["*", "3", "*/6", "9-17", "0,12,23"], ["*", "1", "15", "1-7", "*/10", "31"],
            ["*", "2", "jan-mar", "*/4", "12"], ["*", "0", "mon-fri", "sat,sun", "*/2", "3"],
        ]
        for _ in 0..<40 {
            let expr = fields.map { $0[Int(rng.next() % UInt64($0.count))] }.joined(separator: " ")
            let c = try CronSchedule(parsing: expr)
            let start = Timestamp(millisecondsSince1970: 1_780_000_000_000 + Int64(rng.next() % 10_000_000) * 1000)
            var t = (start.millisecondsSince1970 / 60_000 + 1) * 60_000
            var expected: Timestamp?
            // A month of minutes; a rarer schedule must at least not fire inside the month.
            for _ in 0..<(31 * 24 * 60) {
                if c.matches(Date(timeIntervalSince1970: Double(t) / 1000)) { expected = Timestamp(millisecondsSince1970: t); break }
                t += 60_000
            }
            if let expected {
                #expect(c.next(after: start) == expected, "\(expr)")
            } else {
                #expect((c.next(after: start)?.millisecondsSince1970 ?? .max) >= t, "\(expr)")
            }
        }
    }

    @Test(arguments: [
        ("60 * * * *", "minute field: '60' is not valid"), ("* * *", "has 3 fields; expected 5"),
        ("5-1 * * * *", "range '5-1' runs backwards"), ("*/0 * * * *", "step '0' must be a whole number ≥ 1"),
        ("* * * foo *", "month field: 'foo' is not valid"), ("* * 1,,2 * *", "empty list item"),
    ])
    func badExpressionsNameTheField(_ expr: String, _ message: String) {
        do {
            _ = try CronSchedule(parsing: expr)
            Issue.record("'\(expr)' was accepted")
        } catch let e as FlywheelError {
            #expect(e.message.contains(message), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }
}
