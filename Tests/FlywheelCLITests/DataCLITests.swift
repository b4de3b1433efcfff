import Foundation
import Testing

@Suite struct DataCLITests {
    @Test func profileInferValidate() throws {
        let cli = try CLI.workspace()
        _ = try cli.write("x,city,flag\n1,Oslo,true\n2,Lima,false\n3,Oslo,\n,Lima,true\n", to: "train.csv")
        let p = try #require(try cli.run("data", "profile", "train.csv", "--json").json() as? [String: Any])
        #expect(p["rows"] as? Int == 4)
        let cols = try #require(p["columns"] as? [[String: Any]])
        #expect(cols.map { $0["type"] as? String } == ["numeric", "categorical", "boolean"])
        #expect(cols[0]["missing"] as? Int == 1)
        #expect(cols[0].dict("numeric")["mean"] as? Double == 2)
        #expect(cols[1].dict("frequencies") as? [String: Int] == ["Oslo": 2, "Lima": 2])

        #expect(try cli.run("data", "infer-schema", "train.csv", "-o", "schema.yaml").ok)
        let yaml = try String(contentsOf: cli.cwd.appendingPathComponent("schema.yaml"), encoding: .utf8)
        #expect(yaml.contains("min: 1") && yaml.contains("max: 3") && yaml.contains(#"categories: ["Lima", "Oslo"]"#))
        #expect(try cli.run("data", "validate", "train.csv", "--schema", "schema.yaml").ok)

        _ = try cli.write("x,city\n9,Rome\n0,Oslo\n", to: "new.csv")
        let bad = try cli.run("data", "validate", "new.csv", "--schema", "schema.yaml", "--json")
        #expect(bad.status == 1)
        let r = try #require(try bad.json() as? [String: Any])
        let kinds = (r["anomalies"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
        #expect(kinds == ["below_minimum", "above_maximum", "unseen_category", "missing_column"])
    }

    @Test func badFilesGetLineNumbers() throws {
        let cli = try CLI.workspace()
        _ = try cli.write("a,b\n1,2\n3\n", to: "ragged.csv")
        let r = try cli.run("data", "profile", "ragged.csv")
        #expect(r.status == 1 && r.stderr.contains("ragged.csv line 3: expected 2 fields as in the header, found 1"), "\(r.stderr)")
        _ = try cli.write("columns:\n  - name: a\n    type: numerik\n", to: "s.yaml")
        let s = try cli.run("data", "validate", "ragged.csv", "--schema", "s.yaml")
        #expect(s.status == 1 && s.stderr.contains("columns[0].type"), "\(s.stderr)")
        let gz = try cli.run("data", "profile", "nope.csv")
        #expect(gz.stderr.contains("cannot read 'nope.csv'"))
    }
}

extension DataCLITests {
    /// Help paragraphs are re-flowed (no line broken after one word) and examples keep their layout.
    @Test func helpTextReadsWell() throws {
        let cli = try CLI.workspace()
        let root = try cli.run("--help")
        #expect(root.stdout.contains("It is found from the current directory\nupwards, like git") || root.stdout.contains("upwards, like git"))
        for args in [["--help"], ["train", "--help"], ["predict", "--help"], ["runs", "create", "--help"]] {
            let text = try cli.run(args).stdout
            // Within a paragraph only its last line may be a lone word (wrapping ends somewhere).
            let paragraphs = text.components(separatedBy: "USAGE:")[0].components(separatedBy: "\n\n")
            for p in paragraphs {
                let lines = p.split(separator: "\n").filter { !$0.hasPrefix(" ") }
                for line in lines.dropLast() {
                    #expect(line.split(separator: " ").count > 1, "\(args): a line holds one word: '\(line)'")
                }
            }
        }
        #expect(try cli.run("runs", "log", "--help").stdout.contains("\n  {\"param\": \"lr\", \"value\": \"0.1\"}\n"))
    }
}
