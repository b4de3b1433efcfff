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
        let base = try CLI.workspace()
        let qs = try base.run("quickstart", "--dir", "world")
        #expect(qs.ok, "\(qs.stderr.suffix(2000))")
        let cli = CLI(cwd: base.cwd.appendingPathComponent("world"))
        let made = try cli.run("runs", "create", "-e", "churn", "--name", Self.xss, "--param", "note=<img src=x onerror=alert(2)>")
        #expect(made.ok, "\(made.stderr)")
        let (server, port, _) = try await ServingCLITests().startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
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
    }
}
