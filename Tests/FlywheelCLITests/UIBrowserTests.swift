import Foundation
import Testing

/// The web UI in a real browser: headless Chromium driven by Selenium (.venv-ui, made by
/// ./scripts/test.sh with Debian's chromium and chromium-driver) over the workspace the
/// quickstart leaves, plus a run named with markup. The script walks the pages and reports; the
/// assertions are here. Screenshots of every page land in `ui-screenshots` inside the test's
/// workspace folder, whose path the test prints.
@Suite(.serialized) struct UIBrowserTests {
    static let repo = MLflowCLITests.repo
    static let python = repo.appendingPathComponent(".venv-ui/bin/python")
    static let script = repo.appendingPathComponent("scripts/ui_browser_check.py")
    static let xss = "<script>alert(1)</script>"

    @Test(.timeLimit(.minutes(6))) func everyPageWorksInABrowser() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw CLI.CLIError(message: "no \(Self.python.path): run ./scripts/test.sh, which makes the venv with selenium and installs chromium")
        }
        // The quickstart with --keep-serving is the server: the story it tells (and the traffic its
        // server counted) is what the browser clicks through.
        let base = try CLI.workspace()
        let (server, port) = try await Self.quickstartKeepServing(base)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        // What it told, as a person reads it: the alert's pipeline under its stage, the stages in
        // the order they ran, the UI's address to open.
        let told = try String(contentsOf: base.cwd.appendingPathComponent("quickstart.out"), encoding: .utf8)
        #expect(told.contains("\n  starting pipeline churn (") && told.contains("\n  pipeline churn run "), "\(told)")
        let stagesLine = told.split(separator: "\n").first { $0.hasPrefix("  stages: ") }.map(String.init) ?? ""
        #expect(stagesLine.hasPrefix("  stages: make the workspace "), "\(stagesLine)")
        #expect(stagesLine.range(of: "train version 1")!.lowerBound < stagesLine.range(of: "roll out by canary")!.lowerBound)
        #expect(told.contains("in the web UI, http://127.0.0.1:\(port)/"))
        let cli = CLI(cwd: base.cwd.appendingPathComponent("world"))
        let made = try cli.run("runs", "create", "-e", "churn", "--name", Self.xss, "--param", "note=<img src=x onerror=alert(2)>")
        #expect(made.ok, "\(made.stderr)")
        let shots = base.cwd.appendingPathComponent("ui-screenshots")
        print("UI screenshots: \(shots.path)")
        let run = try await PythonRun.start(Self.python, [Self.script.path, "http://127.0.0.1:\(port)", shots.path, Self.xss], env: [:]).finish()
        #expect(run.status == 0, "\(run.stderr.suffix(4000))")
        let r = try run.lastJSON()
        #expect(r["failed"] as? [String] == [], "\(r["failed"] ?? "")")
        #expect((r["console_errors"] as? [Any])?.isEmpty == true, "\(r["console_errors"] ?? "")")
        #expect((r["external_requests"] as? [Any])?.isEmpty == true, "\(r["external_requests"] ?? "")")
        #expect(r["nav"] as? [String] == ["/", "/models", "/pipelines", "/deployments", "/monitors"])

        // Every page reached answers 200, has its main part, and stays under the size budget.
        let pages = r["pages"] as? [[String: Any]] ?? []
        #expect(pages.count >= 12, "only \(pages.count) pages reached")
        for p in pages {
            #expect(p["status"] as? Int == 200 && p["has_main"] as? Bool == true, "\(p)")
            #expect((p["html_bytes"] as? Int ?? .max) <= 150_000, "\(p)")
        }
        let paths = pages.compactMap { $0["path"] as? String }
        for kind in ["/experiments/", "/runs/", "/models/", "/pipelines/runs/", "/deployments/", "/monitors/"] {
            #expect(paths.contains { $0.hasPrefix(kind) }, "no page under \(kind) was reached: \(paths)")
        }
        #expect((r["screenshots"] as? [String])?.count ?? 0 >= pages.count)

        // The column picker: its search narrows the list, its form shows only what was chosen.
        let picker = r["picker"] as? [String: Any] ?? [:]
        #expect((picker["visible_after_search"] as? Int ?? 0) < (picker["keys"] as? Int ?? 0))
        let chosen = picker["chosen"] as? String ?? "?"
        #expect((picker["url"] as? String ?? "").contains("col="))
        let headers = picker["headers"] as? [String] ?? []
        #expect(headers.contains { $0.hasPrefix(chosen) } && !headers.contains { $0.hasPrefix("metrics.") }, "\(headers)")

        // Selecting two runs enables Compare and opens the comparison.
        let compare = r["compare"] as? [String: Any] ?? [:]
        #expect(compare["button"] as? String == "Compare 2 runs")
        #expect((compare["url"] as? String ?? "").contains("/compare?runs="))
        #expect(compare["h1"] as? String == "Compare 2 runs")

        // Dark mode renders dark, survives a reload, and follows the browser's preference.
        let theme = r["theme"] as? [String: Any] ?? [:]
        #expect((theme["light"] as? Double ?? 0) > 200)
        #expect((theme["dark"] as? Double ?? 255) < 60 && theme["data_theme"] as? String == "dark")
        #expect((theme["dark_after_reload"] as? Double ?? 255) < 60)
        #expect((theme["auto_with_dark_preference"] as? Double ?? 255) < 60)

        // The run named with markup is text: no alert, shown literally.
        let xss = r["xss"] as? [String: Any] ?? [:]
        #expect(xss["alert"] as? Bool == false)
        #expect(xss["shown_in_table"] as? Bool == true)
        #expect((xss["run_page_h1"] as? String ?? "").hasPrefix(Self.xss))
        #expect(xss["scripts_on_page"] as? Int == 0)

        // With JavaScript off, links, sorting and the filter form still work.
        let noJS = r["no_js"] as? [String: Any] ?? [:]
        #expect(noJS["visited"] as? [String] == ["/models", "/pipelines", "/monitors", "/deployments", "/", "/experiments/1"])
        #expect((noJS["sorted_url"] as? String ?? "").contains("order=attributes.run_name"))
        #expect((noJS["filtered_url"] as? String ?? "").contains("filter=attributes.status"))
        #expect((noJS["rows"] as? Int ?? 0) >= 1)
        #expect((noJS["picker_keys"] as? Int ?? 0) >= 3, "\(noJS)")

        // The story the quickstart told, clicked through: an alert names the version it was about
        // (v1, in production when the world shifted) and that version's row links the run that
        // trained it; the alert's retraining run draws its seven steps, all succeeded; the
        // deployment shows the traffic the quickstart sent to both versions.
        let story = r["story"] as? [String: Any] ?? [:]
        #expect((story["alert_version_links"] as? [String] ?? []).contains("churn v1"), "\(story)")
        #expect(story["version_row_found"] as? Bool == true && (story["version_url"] as? String ?? "").contains("/models/churn#v"))
        #expect((story["trained_by_url"] as? String ?? "").contains("/runs/"), "\(story)")
        #expect((story["pipeline_triggers"] as? [String] ?? []).contains("alert"))
        #expect(Set(story["dag_nodes"] as? [String] ?? []) == ["load", "validate", "split", "train", "evaluate", "gate", "register"], "\(story)")
        #expect(story["dag_states"] as? [String] == ["succeeded"] && (story["dag_edges"] as? Int ?? 0) >= 6)
        #expect((story["step_h1"] as? String ?? "").hasPrefix("train"))
        let traffic = story["traffic_requests"] as? [String: Int] ?? [:]
        #expect((traffic["v1"] ?? 0) > 0 && (traffic["v2"] ?? 0) > 0, "\(traffic)")
        #expect(story["traffic_charts"] as? Int == 1)
    }

    /// Starts `flywheel quickstart --dir world --keep-serving --port 0` and waits for it to say
    /// where it serves (after the whole story has run).
    static func quickstartKeepServing(_ base: CLI) async throws -> (Process, Int) {
        let out = base.cwd.appendingPathComponent("quickstart.out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let p = base.process(["quickstart", "--dir", "world", "--keep-serving", "--port", "0"])
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: out)
        try p.run()
        for _ in 0..<1200 {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let range = text.range(of: "serving at http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return (p, port) }
            }
            if !p.isRunning { throw CLI.CLIError(message: "the quickstart stopped: \(text.suffix(2000))") }
            try await Task.sleep(for: .milliseconds(100))
        }
        p.terminate()
        throw CLI.CLIError(message: "the quickstart did not start serving within 120 s")
    }
}
