import FlywheelCore
import Testing

@Suite struct LabelsTests {
    @Test func parsesPairsAndFormatsSorted() throws {
        let l = try Labels(parsingPairs: ["team=fraud", "env=prod", "app.kubernetes.io/name=flywheel"])
        #expect(l["team"] == "fraud")
        #expect(l.formatted == "app.kubernetes.io/name=flywheel,env=prod,team=fraud")
    }

    @Test(arguments: ["-bad", "bad-", "", "has space", "a/b/c/", "x=y"])
    func rejectsInvalidKeys(_ key: String) {
        #expect(throws: FlywheelError.self) { try Labels(validating: [key: "v"]) }
    }

    @Test func rejectsPairWithoutEquals() throws {
        let e = #expect(throws: FlywheelError.self) { try Labels(parsingPairs: ["team"]) }
        #expect(e?.message.contains("expected key=value") == true)
    }

    @Test func selectorMatchesKubernetesSemantics() throws {
        let s = try LabelSelector(parsing: "team=fraud, env!=dev,tier in (a, b),!legacy,owner")
        #expect(s.requirements.count == 5)
        let good: Labels = ["team": "fraud", "env": "prod", "tier": "b", "owner": "ana"]
        #expect(s.matches(good))
        var l = good
        l["env"] = "dev"
        #expect(!s.matches(l))
        l = good
        l["legacy"] = "1"
        #expect(!s.matches(l))
        l = good
        l["tier"] = "c"
        #expect(!s.matches(l))
        l = good
        l["owner"] = nil
        #expect(!s.matches(l))
        // != holds when the label is absent.
        l = good
        l["env"] = nil
        #expect(s.matches(l))
        let notin = try LabelSelector(parsing: "tier notin (a,b)")
        #expect(notin.matches(["tier": "c"]))
        #expect(notin.matches([:]))
        #expect(!notin.matches(["tier": "a"]))
        #expect(try LabelSelector(parsing: "team==fraud").matches(["team": "fraud"]))
        #expect(try LabelSelector(parsing: "").matches(["x": "y"]))
    }

    @Test(arguments: [
        ("team=fraud,", "column 12"),
        ("team=fraud,,x", "column 12"),
        ("tier in a,b", "expected '('"),
        ("tier in (a,b", "expected ')'"),
        ("team fraud", "expected '=', '!=', 'in' or 'notin'"),
    ])
    func selectorErrorsPointAtTheProblem(_ text: String, _ expected: String) {
        let e = #expect(throws: FlywheelError.self) { try LabelSelector(parsing: text) }
        #expect(e?.message.contains(expected) == true, "\(e?.message ?? "")")
        #expect(e?.code == .invalidArgument)
    }
}

@Suite struct DigestTests {
    @Test func matchesKnownSHA256Vectors() throws {
        // FIPS 180-2 test vectors.
        #expect(Digest(of: Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest(of: [UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var b = DigestBuilder()
        b.update(Array("ab".utf8))
        b.update(Array("c".utf8))
        #expect(b.finalize() == Digest(of: Array("abc".utf8)))
        #expect(b.byteCount == 3)
    }

    @Test func parsesAndRejects() throws {
        let d = try Digest(parsing: "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(d.description.hasPrefix("sha256:ba78"))
        #expect(throws: FlywheelError.self) { try Digest(parsing: "sha256:XYZ") }
        #expect(throws: FlywheelError.self) { try Digest(parsing: String(repeating: "A", count: 64)) }
    }
}

@Suite struct ResourceRefTests {
    @Test func roundTrips() throws {
        for text in ["run:abc", "dataset:sha256:00", "model:iris/3", "pipeline_run:x", "deployment:iris"] {
            #expect(try ResourceRef(parsing: text).description == text)
        }
        let e = #expect(throws: FlywheelError.self) { try ResourceRef(parsing: "table:x") }
        #expect(e?.message.contains("KIND:ID") == true)
        #expect(throws: FlywheelError.self) { try ResourceRef(parsing: "run:") }
    }
}
