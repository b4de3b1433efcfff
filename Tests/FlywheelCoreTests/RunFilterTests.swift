import FlywheelCore
import Testing

@Suite struct RunFilterParsingTests {
    @Test func parsesTheIssueExample() throws {
        let f = try RunFilter(parsing: "metrics.accuracy > 0.9 and params.model = 'rf' and labels.team = 'ml'")
        #expect(
            f == .and(
                .and(.compare(.metric("accuracy"), .greater, .number(0.9)), .compare(.param("model"), .equal, .string("rf"))),
                .compare(.label("team"), .equal, .string("ml"))))
    }

    @Test func precedenceNotAndOr() throws {
        let f = try RunFilter(parsing: "not metrics.a < 1 or metrics.b >= 2 and tags.x != \"y\"")
        #expect(
            f == .or(
                .not(.compare(.metric("a"), .less, .number(1))),
                .and(.compare(.metric("b"), .greaterOrEqual, .number(2)), .compare(.tag("x"), .notEqual, .string("y")))))
        let g = try RunFilter(parsing: "(metrics.a < 1 or metrics.b > 2) and status = 'FINISHED'")
        #expect(
            g == .and(
                .or(.compare(.metric("a"), .less, .number(1)), .compare(.metric("b"), .greater, .number(2))),
                .compare(.attribute(.status), .equal, .string("finished"))))
    }

    @Test func quotedKeysMembershipAndLike() throws {
        #expect(try RunFilter(parsing: "metrics.`val loss` <= -1.5e-3") == .compare(.metric("val loss"), .lessOrEqual, .number(-0.0015)))
        #expect(try RunFilter(parsing: "params.\"my key\" = 'it''s'") == .compare(.param("my key"), .equal, .string("it's")))
        #expect(
            try RunFilter(parsing: "tags.stage not in ('a', 'b')")
                == .membership(.tag("stage"), negated: true, [.string("a"), .string("b")]))
        #expect(try RunFilter(parsing: "params.opt ILIKE 'AD%'") == .compare(.param("opt"), .ilike, .string("AD%")))
        #expect(try RunFilter(parsing: "attributes.start_time >= 100") == .compare(.attribute(.startTime), .greaterOrEqual, .number(100)))
    }

    @Test func rangesAndNulls() throws {
        #expect(
            try RunFilter(parsing: "metrics.acc BETWEEN 0.8 AND 0.9 or params.x IS NULL")
                == .or(
                    .and(.compare(.metric("acc"), .greaterOrEqual, .number(0.8)), .compare(.metric("acc"), .lessOrEqual, .number(0.9))),
                    .missing(.param("x"))))
        #expect(try RunFilter(parsing: "tags.owner is not null") == .not(.missing(.tag("owner"))))
        let d = RunDetail(
            run: Run(id: "r", experimentID: "1", name: "n", startTime: Timestamp(millisecondsSince1970: 0)),
            data: RunData(params: ["opt": "adam"], latestMetrics: ["acc": Metric(key: "acc", value: 0.9, timestamp: Timestamp(millisecondsSince1970: 0))]))
        #expect(try RunFilter(parsing: "metrics.acc between 0.9 and 1").matches(d))
        #expect(try !RunFilter(parsing: "metrics.acc between 0.91 and 1").matches(d))
        #expect(try RunFilter(parsing: "metrics.loss IS NULL and params.opt IS NOT NULL").matches(d))
        #expect(try !RunFilter(parsing: "attributes.end_time IS NOT NULL").matches(d))
    }

    /// Each bad filter's error names the token and its column.
    @Test(arguments: [
        ("metrics.accuracy > ", "at the end"),
        ("metrics.accuracy > 'high'", "column 20 near ''high''"),
        ("params.model > 'rf'", "column 14 near '>'"),
        ("metrics.acc > 0.9 and bogus.x = 1", "column 23 near 'bogus'"),
        ("metrics.acc > 0.9 oops", "column 19 near 'oops'"),
        ("params.model = 'rf", "column 16"),
        ("metrics.acc ~ 1", "column 13"),
        ("params.model = rf", "column 16 near 'rf'"),
        ("status = 'sleeping'", "unknown status"),
        ("", "empty"),
        ("(metrics.a > 1", "expected ')'"),
        ("metrics.a LIKE 'x'", "needs a string field"),
        ("metrics.a IS 3", "expected NULL or NOT NULL"),
        ("metrics.a BETWEEN 1 OR 2", "expected AND between"),
        ("params.a BETWEEN 'x' AND 'y'", "BETWEEN compares numbers"),
    ])
    func errorsPointAtTheOffendingToken(_ text: String, _ expected: String) {
        let e = #expect(throws: FlywheelError.self) { try RunFilter(parsing: text) }
        #expect(e?.code == .invalidArgument)
        #expect(e?.message.contains(expected) == true, "message was: \(e?.message ?? "nil")")
    }

    @Test func orderLists() throws {
        let o = try RunOrder.parseList("metrics.accuracy desc, params.lr, attributes.start_time ASC")
        #expect(o == [
            RunOrder(field: .metric("accuracy"), ascending: false), RunOrder(field: .param("lr"), ascending: true),
            RunOrder(field: .attribute(.startTime), ascending: true),
        ])
        #expect(throws: FlywheelError.self) { try RunOrder.parseList("metrics.a sideways") }
    }

    @Test func likeSemantics() throws {
        let d = RunDetail(
            run: Run(id: "r", experimentID: "1", name: "n", startTime: Timestamp(millisecondsSince1970: 0)),
            data: RunData(params: ["opt": "Adam_v2"]))
        #expect(try RunFilter(parsing: "params.opt LIKE 'Ad%'").matches(d))
        #expect(!(try RunFilter(parsing: "params.opt LIKE 'ad%'").matches(d)))
        #expect(try RunFilter(parsing: "params.opt ILIKE 'ad%'").matches(d))
        #expect(try RunFilter(parsing: "params.opt LIKE 'Adam_v_'").matches(d))
        #expect(try RunFilter(parsing: "params.opt LIKE '%v2'").matches(d))
        #expect(!(try RunFilter(parsing: "params.opt LIKE 'Adam'").matches(d)))
        // A comparison on a missing value is false; its negation is true.
        #expect(!(try RunFilter(parsing: "params.missing = 'x'").matches(d)))
        #expect(try RunFilter(parsing: "not params.missing = 'x'").matches(d))
    }
}
