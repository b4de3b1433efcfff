import Foundation
import Testing

/// `flywheel drift` on files: the table, --json, --html, options and bad input.
@Suite struct DriftCLITests {
    func files(_ cli: CLI) throws {
        var ref = "x,c,flag\n", cur = "x,c,flag\n"
        for i in 0..<400 {
            let v = Double((i * 37) % 400) / 100
            ref += "\(v),\(["a", "b", "c"][i % 3]),\(i % 2 == 0)\n"
            cur += "\(v + 0.8),\(i % 5 == 0 ? "b" : "a"),\(i % 2 == 0)\n"
        }
        _ = try cli.write(ref, to: "ref.csv")
        _ = try cli.write(cur, to: "cur.csv")
    }

    @Test func reportsAsTableJSONAndHTML() throws {
        let cli = try CLI.workspace()
        try files(cli)
        let table = try cli.run("drift", "ref.csv", "cur.csv", "--html", "report.html")
        #expect(table.ok, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("COLUMN") == true)
        #expect(lines.contains { $0.hasPrefix("x ") && $0.contains("ks") && $0.contains("yes") })
        #expect(lines.contains { $0.hasPrefix("c ") && $0.contains("chisquare") && $0.contains("yes") })
        #expect(lines.contains { $0.hasPrefix("flag ") && $0.contains(" z ") && $0.contains(" no ") })
        #expect(lines.last?.hasPrefix("dataset drift: yes (2 of 3 tested columns drifted") == true)
        let html = try String(contentsOf: cli.cwd.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("Dataset drift: <b>yes</b>"))

        let json = try cli.run("drift", "ref.csv", "cur.csv", "--json", "--method", "psi", "--threshold", "psi=5")
        let report = try #require(try json.json() as? [String: Any])
        let columns = try #require(report["columns"] as? [[String: Any]])
        #expect(columns.compactMap { ($0["result"] as? [String: Any])?["method"] as? String } == ["psi", "psi", "psi"])
        #expect(report["datasetDrift"] as? Bool == false, "a PSI threshold of 5 lets everything pass")
    }

    @Test func badArgumentsAndFilesAreNamed() throws {
        let cli = try CLI.workspace()
        try files(cli)
        let method = try cli.run("drift", "ref.csv", "cur.csv", "--method", "magic")
        #expect(!method.ok && method.stderr.contains("--method 'magic' is not valid"))
        let column = try cli.run("drift", "ref.csv", "cur.csv", "--columns", "x,nope")
        #expect(!column.ok && column.stderr.contains("'nope' is in neither file"))
        let missing = try cli.run("drift", "ref.csv", "absent.csv")
        #expect(!missing.ok && missing.stderr.contains("absent.csv"))
        _ = try cli.write("x,c\n1,a\n2\n", to: "ragged.csv")
        let ragged = try cli.run("drift", "ref.csv", "ragged.csv")
        #expect(!ragged.ok && ragged.stderr.contains("line 3"), "\(ragged.stderr)")
    }

    /// A registered model's training profile is the reference: no training file needed.
    @Test func aModelsTrainingProfileIsTheReference() throws {
        let cli = try ServingCLITests.irisWorkspace(deployed: false)
        let rows = try String(contentsOf: cli.cwd.appendingPathComponent("iris.csv"), encoding: .utf8).split(separator: "\n")
        // Serving-shaped data: the same rows without the target, then the petals doubled.
        let header = "sepal_length,sepal_width,petal_length,petal_width"
        var same = header + "\n", moved = header + "\n"
        for line in rows.dropFirst() {
            let f = line.split(separator: ",")
            same += f.prefix(4).joined(separator: ",") + "\n"
            moved += "\(f[0]),\(f[1]),\((Double(f[2]) ?? 0) * 2),\((Double(f[3]) ?? 0) * 2)\n"
        }
        _ = try cli.write(same, to: "same.csv")
        _ = try cli.write(moved, to: "moved.csv")
        let quiet = try #require(try cli.run("drift", "--model", "iris@production", "same.csv", "--json").json() as? [String: Any])
        #expect((quiet["columns"] as? [[String: Any]])?.map { $0["column"] as? String } == ["sepal_length", "sepal_width", "petal_length", "petal_width"])
        #expect(quiet["driftedColumns"] as? Int == 0)
        let loud = try #require(try cli.run("drift", "--model", "iris@production", "moved.csv", "--json").json() as? [String: Any])
        let drifted = (loud["columns"] as? [[String: Any]])?.filter { ($0["result"] as? [String: Any])?["drifted"] as? Bool == true }.map { $0["column"] as? String }
        #expect(drifted == ["petal_length", "petal_width"])
        #expect(loud["datasetDrift"] as? Bool == true)
        let usage = try cli.run("drift", "--model", "iris@production", "a.csv", "b.csv")
        #expect(!usage.ok && usage.stderr.contains("with --model, give one file"))
    }
}
