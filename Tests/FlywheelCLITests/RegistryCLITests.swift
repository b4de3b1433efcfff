import FlywheelCore
import Foundation
import Testing

@Suite struct RegistryCLITests {
    @Test func registerPromoteAndTrace() throws {
        let cli = try CLI.workspace()
        let data = try cli.write("x,y\n1,2\n", to: "train.csv")
        let run = try cli.run("runs", "create", "-e", "iris", "--input", "train.csv").line
        _ = try cli.write("{\"w\": [1,2]}", to: "model.json")
        #expect(try cli.run("artifacts", "put", run, "model.json", "--as", "model/model.json").ok)
        try cli.run("runs", "end", run)

        #expect(try cli.run("models", "create", "iris", "--label", "team=ml").ok)
        let dup = try cli.run("models", "create", "iris")
        #expect(dup.status == 1 && dup.stderr.contains("already exists"))
        let v1 = try cli.run("models", "versions", "create", "iris", "--run", run, "--artifact", "model/model.json",
                             "--signature", #"{"inputs": [{"name": "x", "type": "double"}]}"#, "--alias", "staging")
        #expect(v1.line == "1", "\(v1.stderr)")
        _ = try cli.write("{\"w\": [3]}", to: "model2.json")
        #expect(try cli.run("models", "versions", "create", "iris", "--file", "model2.json").line == "2")
        #expect(try cli.run("models", "alias", "set", "iris", "production", "1", "--reason", "first good one").ok)
        let move = try cli.run("models", "alias", "set", "iris", "production", "2", "--reason", "beats v1", env: ["FLYWHEEL_ACTOR": "ci-bot"])
        #expect(move.line == "iris@production -> 2 (was 1)")
        #expect(try cli.run("models", "versions", "status", "iris", "1", "deprecated", "--reason", "superseded").ok)
        #expect(try cli.run("models", "alias", "delete", "iris", "staging").ok)

        let resolved = try #require(try cli.run("models", "resolve", "models:/iris@production", "--json").json() as? [String: Any])
        #expect(resolved["version"] as? Int == 2)
        #expect(resolved["digest"] as? String == Digest(of: Data("{\"w\": [3]}".utf8)).description)

        let show = try #require(try cli.run("models", "show", "iris", "--json").json() as? [String: Any])
        #expect(show["aliases"] as? [String: Int] == ["production": 2])
        let events = try #require(show["events"] as? [[String: Any]])
        #expect(events.map { $0["kind"] as? String } == [
            "version_created", "alias_set", "version_created", "alias_set", "alias_set", "status_changed", "alias_deleted",
        ])
        #expect(events[4]["previousVersion"] as? Int == 1 && events[4]["version"] as? Int == 2)
        #expect(events[4]["actor"] as? String == "ci-bot" && events[4]["reason"] as? String == "beats v1")
        let versions = try #require(show["versions"] as? [[String: Any]])
        #expect(versions[0]["status"] as? String == "deprecated")
        #expect(versions[0].dict("signature")["inputs"] != nil)

        let human = try cli.run("models", "show", "iris")
        #expect(human.stdout.contains("@production moved 1 -> 2"))

        // Lineage of the version in production: v2 has no run; v1 came from the run, which read train.csv.
        let lin = try #require(try cli.run("lineage", "show", "models:/iris/1", "--json").json() as? [String: Any])
        let up = try #require(lin["upstream"] as? [[String: Any]])
        #expect(up.map { $0["source"] as? String } == ["run:\(run)", "dataset:\(Digest(of: try Data(contentsOf: data)))"])
        let down = try #require(try cli.run("lineage", "show", "sha256:\(Digest(of: try Data(contentsOf: data)).hex)", "--direction", "downstream", "--json").json() as? [String: Any])
        #expect((down["downstream"] as? [[String: Any]])?.map { $0["target"] as? String } == ["run:\(run)", "model:iris/1"])

        let list = try #require(try cli.run("models", "list", "--selector", "team=ml", "--json").json() as? [[String: Any]])
        #expect(list.first?["latestVersion"] as? Int == 2)
        let badAlias = try cli.run("models", "alias", "set", "iris", "production", "9")
        #expect(badAlias.status == 1 && badAlias.stderr.contains("has no version 9"))
    }
}

extension CLI {
    func run(_ args: String..., env extra: [String: String]) throws -> Result {
        var c = self
        for (k, v) in extra { c.env[k] = v }
        return try c.run(args)
    }
}
