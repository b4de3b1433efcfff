import FlywheelCore
import Foundation
import Testing

@Suite struct LearnCLITests {
    static let data: String = {
        var s = "x1,x2,color,label\n"
        var state: UInt64 = 11
        func unit() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for i in 0..<240 {
            let x1 = unit() * 4, x2 = unit() * 4
            let color = ["red", "green", "blue"][i % 3]
            let label = (x1 + (color == "red" ? 1.5 : 0) > x2) ? "pos" : "neg"
            s += "\(x1),\(i % 19 == 0 ? "" : String(x2)),\(color),\(label)\n"
        }
        return s
    }()

    /// Train inside a workspace: a run with params, metrics, the data digest and the bundle;
    /// nested trial runs; a registered version; then predict by registry reference.
    @Test func trainLogsRegistersAndPredicts() throws {
        let cli = try CLI.workspace()
        let data = try cli.write(Self.data, to: "train.csv")
        let r = try cli.run("train", "--data", "train.csv", "--target", "label", "--model", "random_forest", "--param", "n_trees=15",
                            "--tune", "random", "--trials", "3", "--cv", "3", "--out", "m.fwm", "--register", "shapes", "--alias", "production", "--json")
        #expect(r.ok, "\(r.stderr)")
        let j = try #require(try r.json() as? [String: Any])
        let runID = try #require(j["runID"] as? String)
        #expect(j["registered"] as? String == "models:/shapes/1")
        #expect((j.dict("metrics")["accuracy"] as? Double ?? 0) > 0.7)  // well above chance (0.5) on a linear boundary

        let show = try #require(try cli.run("runs", "show", runID, "--json").json() as? [String: Any])
        #expect(show.dict("run").dict("environment")["inputs"].map { ($0 as? [[String: Any]])?.first?["digest"] as? String }
            == Digest(of: try Data(contentsOf: data)).description)
        #expect(show.dict("data").dict("params")["model"] as? String == "random_forest")
        #expect(show.dict("data").dict("params")["n_trees"] as? String == "15")
        #expect(show.dict("data").dict("latestMetrics")["accuracy"] != nil)
        #expect((show["artifacts"] as? [[String: Any]])?.map { $0["path"] as? String } == ["model/model.fwm"])
        // Three nested trial runs under it.
        let children = try #require(try cli.run("runs", "list", "--filter", "attributes.parent_run_id = '\(runID)'", "--json").json() as? [String: Any])
        #expect((children["runs"] as? [Any])?.count == 3)
        // The registered version carries the signature.
        let v = try #require(try cli.run("models", "resolve", "models:/shapes@production", "--json").json() as? [String: Any])
        let inputs = try #require(v.dict("signature")["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["name"] as? String } == ["x1", "x2", "color"])

        _ = try cli.write("x1,x2,color\n3.5,0.5,red\n0.2,3.9,blue\n", to: "new.csv")
        let p = try cli.run("predict", "--model", "models:/shapes@production", "--input", "new.csv", "--output", "out.csv")
        #expect(p.ok, "\(p.stderr)")
        let out = try String(contentsOf: cli.cwd.appendingPathComponent("out.csv"), encoding: .utf8).split(separator: "\n")
        #expect(out[0] == "x1,x2,color,prediction,proba_neg,proba_pos")
        #expect(out[1].hasPrefix("3.5,0.5,red,pos,") && out[2].hasPrefix("0.2,3.9,blue,neg,"))
        // The file bundle predicts the same.
        #expect(try cli.run("predict", "--model", "m.fwm", "--input", "new.csv", "--output", "out2.jsonl").ok)
        let lines = try String(contentsOf: cli.cwd.appendingPathComponent("out2.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines[0].contains("\"prediction\":\"pos\""))
    }

    @Test func trainWithoutAWorkspaceAndBadInput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fw-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cli = CLI(cwd: dir)
        _ = try cli.write(Self.data, to: "d.csv")
        let ok = try cli.run("train", "--data", "d.csv", "--target", "label", "--model", "logistic_regression", "--out", "m.fwm")
        #expect(ok.ok, "\(ok.stderr)")
        #expect(ok.stdout.contains("accuracy") && !ok.stdout.contains("run "))
        let named = try cli.run("train", "--data", "d.csv", "--target", "label", "--out", "m.fwm", "--workspace", dir.appendingPathComponent("nowhere").path)
        #expect(named.status == 1 && named.stderr.contains("is not a Flywheel workspace"), "\(named.stderr)")
        let reg = try cli.run("train", "--data", "d.csv", "--target", "label", "--out", "m.fwm", "--register", "x")
        #expect(reg.status == 1 && reg.stderr.contains("--register needs a workspace"))
        let badParam = try cli.run("train", "--data", "d.csv", "--target", "label", "--param", "depth=3", "--out", "m.fwm")
        #expect(badParam.status == 1 && badParam.stderr.contains("unknown hyperparameter 'depth' for random_forest"), "\(badParam.stderr)")
        let badModel = try cli.run("train", "--data", "d.csv", "--target", "label", "--model", "svm", "--out", "m.fwm")
        #expect(badModel.status != 0 && badModel.stderr.contains("--model 'svm' is not valid"))
        _ = try cli.write("x1,x2\n1,2\n", to: "short.csv")
        let missing = try cli.run("predict", "--model", "m.fwm", "--input", "short.csv", "--output", "o.csv")
        #expect(missing.status == 1 && missing.stderr.contains("no column 'color'"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.csv").path))
        _ = try cli.write("{\"format\": \"other\"}", to: "fake.fwm")
        let fake = try cli.run("predict", "--model", "fake.fwm", "--input", "short.csv", "--output", "o.csv")
        #expect(fake.stderr.contains("not a Flywheel model bundle"))
    }
}
