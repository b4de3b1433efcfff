import FlywheelCore
import FlywheelTesting
import Foundation
import Testing

@testable import FlywheelUI

/// A store seeded with one experiment of runs (one named with markup), a nested run, a metric
/// history with a spike, an artifact, and a registered model with aliases.
struct Seeded {
    let store = InMemoryMetadataStore()
    let blobs = InMemoryBlobStore()
    var ui: WebUI { WebUI(store: store, blobs: blobs) }
    let experiment: Experiment
    let runs: [RunID]
    let xss: RunID
    let parent: RunID
    let child: RunID

    static let evil = "<script>alert(1)</script>"
    static func spike(_ points: Int) -> Int { points * 54_321 / 100_000 }

    init(runCount: Int = 12, historyPoints: Int = 2_000) async throws {
        let t0 = Timestamp(millisecondsSince1970: 1_780_000_000_000)
        experiment = try await store.createExperiment(NewExperiment(name: "churn <b>", description: "predict churn"), at: t0)
        var ids: [RunID] = []
        for i in 0..<runCount {
            let id = RunID(rawValue: String(format: "run%04d", i))
            try await store.createRun(
                Run(id: id, experimentID: experiment.id, name: "r\(i)", status: i % 3 == 0 ? .failed : .finished,
                    startTime: Timestamp(millisecondsSince1970: t0.millisecondsSince1970 + Int64(i) * 1000),
                    endTime: Timestamp(millisecondsSince1970: t0.millisecondsSince1970 + Int64(i) * 1000 + 500)))
            try await store.logBatch(
                runID: id, params: [Param(key: "model", value: i % 2 == 0 ? "rf" : "gb"), Param(key: "depth", value: String(i % 4))],
                metrics: [Metric(key: "accuracy", value: 0.5 + Double(i) / 100, timestamp: t0)], tags: [])
            ids.append(id)
        }
        runs = ids
        xss = RunID(rawValue: "xss")
        try await store.createRun(Run(id: xss, experimentID: experiment.id, name: Seeded.evil, startTime: t0))
        try await store.logBatch(
            runID: xss, params: [Param(key: "note", value: "\"quoted\" & <tag> " + String(repeating: "x", count: 500))],
            metrics: [], tags: [Tag(key: "owner", value: "<img src=x onerror=alert(2)>")])
        parent = RunID(rawValue: "parent")
        child = RunID(rawValue: "child")
        try await store.createRun(Run(id: parent, experimentID: experiment.id, name: "sweep", startTime: t0))
        try await store.createRun(Run(id: child, experimentID: experiment.id, name: "trial-1", startTime: t0, parentID: parent))
        // A long history with one spike in the middle.
        var history: [Metric] = []
        for s in 0..<historyPoints {
            history.append(Metric(key: "loss", value: s == Seeded.spike(historyPoints) ? 1_000 : 1 / Double(s + 1), step: Int64(s), timestamp: t0))
        }
        for chunk in stride(from: 0, to: history.count, by: 1000) {
            try await store.logBatch(runID: ids[0], params: [], metrics: Array(history[chunk..<min(chunk + 1000, history.count)]), tags: [])
        }
        let blob = try await blobs.put(Data("hello <artifact>".utf8))
        try await store.recordArtifacts([ArtifactRecord(runID: ids[0], path: "notes/readme.txt", digest: blob.digest, size: blob.size, createdAt: t0)])
        try await store.createModel(RegisteredModel(name: "churn-model", description: "", labels: ["team": "ml"], createdAt: t0, updatedAt: t0))
        let v1 = try await store.createModelVersion(
            NewModelVersion(modelName: "churn-model", runID: ids[1], digest: nil, source: "runs:/\(ids[1].rawValue)/model"),
            by: Attribution(actor: "alice", reason: "first"), at: t0)
        _ = try await store.setAlias(model: "churn-model", alias: "production", version: v1.version, by: Attribution(actor: "bob", reason: "gate passed"), at: t0)
    }

    func get(_ target: String, cookie: String? = nil) async -> UIResponse {
        await ui.respond(to: UIRequest(target: target, cookie: cookie))
    }
}

@Suite struct WebUITests {
    @Test func experimentsListShowsCountsAndEscapesNames() async throws {
        let s = try await Seeded()
        let page = await s.get("/")
        #expect(page.status == 200)
        #expect(page.text.contains("churn &lt;b&gt;"))
        #expect(!page.text.contains("churn <b>"))
        // 12 runs + xss + parent + child.
        #expect(page.text.contains("<td class=\"n\">15</td>"))
        let none = await s.get("/experiments?q=nothing-like-this")
        #expect(none.text.contains("No experiment matches"))
    }

    @Test func runsTablePagesSortsAndFiltersWithOr() async throws {
        let s = try await Seeded(runCount: 30)
        let id = s.experiment.id.rawValue
        let page = await s.get("/experiments/\(id)?size=10&order=metrics.accuracy%20DESC&filter=params.model%20%3D%20%27rf%27%20or%20params.model%20%3D%20%27gb%27")
        #expect(page.status == 200)
        let names = Self.runNames(page.text)
        #expect(names == (20..<30).reversed().map { "r\($0)" })
        #expect(page.text.contains("next page"))
        // Follow the next link: the following ten.
        let next = try #require(Self.href(page.text, label: "next page »"))
        let page2 = await s.get(next)
        #expect(Self.runNames(page2.text) == (10..<20).reversed().map { "r\($0)" })
        // Parentheses and AND narrow it.
        let narrow = await s.get(
            "/experiments/\(id)?order=metrics.accuracy%20ASC&filter=(params.model%20%3D%20%27rf%27)%20and%20metrics.accuracy%20%3E%3D%200.7")
        #expect(Self.runNames(narrow.text) == stride(from: 20, to: 30, by: 2).map { "r\($0)" })
        // Ranges and IS NULL.
        let range = await s.get("/experiments/\(id)?order=metrics.accuracy%20ASC&filter=metrics.accuracy%20BETWEEN%200.595%20AND%200.625")
        #expect(Self.runNames(range.text) == ["r10", "r11", "r12"])
        let null = await s.get("/experiments/\(id)?order=attributes.run_name%20ASC&filter=params.model%20IS%20NULL")
        #expect(Self.runNames(null.text) == [Seeded.evil, "sweep", "trial-1"].sorted().map { HTML.escaped($0) })
    }

    @Test func aBadFilterIsA400ThatNamesTheFault() async throws {
        let s = try await Seeded()
        let page = await s.get("/experiments/\(s.experiment.id.rawValue)?filter=metrics.accuracy%20%3E%3E%201")
        #expect(page.status == 400)
        #expect(page.text.contains("filter error"))
        #expect(page.text.contains("value=\"metrics.accuracy &gt;&gt; 1\""))
    }

    @Test func cellsFilterByTheirValue() async throws {
        let s = try await Seeded()
        let page = await s.get("/experiments/\(s.experiment.id.rawValue)?col=params.model&order=metrics.accuracy%20DESC")
        // The cell is a button of the narrowing form, which holds the table's state once.
        #expect(page.text.contains("<td><button name=\"n\" value=\"params.model='rf'\">rf</button></td>"))
        // A metric's cell is its number: its column sorts instead.
        let metrics = await s.get("/experiments/\(s.experiment.id.rawValue)?col=metrics.accuracy")
        #expect(metrics.text.contains("<td>0.51</td>"))
        #expect(metrics.text.contains("<style>table.runs td:nth-child(5),table.runs td:nth-child(6){text-align:right}</style>"))
        #expect(page.text.contains("<form id=\"t\" method=\"get\" action=\"/experiments/1\"><input type=\"hidden\" name=\"order\" value=\"metrics.accuracy DESC\"><input type=\"hidden\" name=\"col\" value=\"params.model\">"))
        // Submitting it (what the browser does on a click) redirects to the narrowed table.
        let submitted = await s.get("/experiments/\(s.experiment.id.rawValue)?order=metrics.accuracy+DESC&col=params.model&n=params.model+%3D+%27rf%27")
        #expect(submitted.status == 303)
        let location = try #require(submitted.headers.first { $0.0 == "Location" }?.1)
        #expect(location.contains("filter=params.model%20%3D%20'rf'"))
        let filtered = await s.get(location)
        #expect(filtered.status == 200)
        let names = Self.runNames(filtered.text)
        #expect(!names.isEmpty)
        #expect(names.allSatisfy { Int($0.dropFirst())! % 2 == 0 })
        // Only the chosen column is rendered; its header sorts (by a redirect to the sorted table).
        #expect(page.text.contains("<th><button name=\"sort\" value=\"params.model\">params.model</button></th>"))
        #expect(!page.text.contains(">metrics.accuracy</button>"))
        let sort = await s.get("/experiments/\(s.experiment.id.rawValue)?col=params.model&sort=params.model")
        #expect(sort.status == 303)
        #expect(sort.headers.contains { $0.0 == "Location" && $0.1 == "/experiments/1?order=params.model%20ASC&col=params.model" })
    }

    @Test func thousandsOfKeysStayOutOfThePageUntilSearched() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        let e = try await s.store.createExperiment(NewExperiment(name: "wide"), at: Timestamp(millisecondsSince1970: 0))
        for i in 0..<10 {
            let id = RunID(rawValue: "w\(i)")
            try await s.store.createRun(Run(id: id, experimentID: e.id, name: "w\(i)", startTime: Timestamp(millisecondsSince1970: 0)))
            let metrics = (0..<100).map { Metric(key: "key\(i * 100 + $0)", value: 1, timestamp: Timestamp(millisecondsSince1970: 0)) }
            try await s.store.logBatch(runID: id, params: [], metrics: metrics, tags: [])
        }
        // The table alone: no key list, the picker closed with a link that lists them (and the
        // script's fragment); default columns from the first runs' keys.
        let page = await s.get("/experiments/\(e.id.rawValue)")
        #expect(page.text.components(separatedBy: "name=\"col\"").count - 1 == 0)
        #expect(page.text.contains("<details class=\"cols\" data-load=\"/experiments/\(e.id.rawValue)?fragment=cols\">"))
        #expect(page.text.contains("<a href=\"/experiments/\(e.id.rawValue)?pick=1\">list the keys of the runs on this page</a>"))
        #expect(page.text.components(separatedBy: "<th><button name=\"sort\" value=\"metrics.").count - 1 == WebUI.defaultColumns)
        for listed in [await s.get("/experiments/\(e.id.rawValue)?pick=1"), await s.get("/experiments/\(e.id.rawValue)?fragment=cols")] {
            #expect(listed.text.contains("1000 keys on this page; 700 more: search to narrow"))
            #expect(listed.text.components(separatedBy: "name=\"col\"").count - 1 == WebUI.pickerLimit)
        }
        #expect(await s.get("/experiments/\(e.id.rawValue)?fragment=cols").text.hasPrefix("<form method=\"get\""))
        let searched = await s.get("/experiments/\(e.id.rawValue)?keys=KEY99")
        // key99 and key990…key999, matched ignoring case.
        #expect(searched.text.components(separatedBy: "name=\"col\"").count - 1 == 11)
        #expect(searched.text.contains("11 matching keys on this page"))
        #expect(searched.text.contains("<details class=\"cols\" open>"))
    }

    @Test func childRunsSitUnderTheirParent() async throws {
        let s = try await Seeded()
        let page = await s.get("/experiments/\(s.experiment.id.rawValue)?order=attributes.run_name%20ASC")
        let text = page.text
        let sweep = try #require(text.range(of: ">sweep</a>"))
        let trial = try #require(text.range(of: ">trial-1</a>"))
        #expect(sweep.upperBound < trial.lowerBound)
        let between = text[sweep.upperBound..<trial.lowerBound]
        #expect(between.contains("<tr class=\"child\">"))
        #expect(!between.contains(">r1</a>"))
    }

    @Test func markupInUserDataShowsAsTextEverywhere() async throws {
        let s = try await Seeded()
        for target in ["/experiments/\(s.experiment.id.rawValue)", "/runs/xss", "/compare?runs=xss&runs=run0001"] {
            let page = await s.get(target)
            #expect(page.status == 200, "\(target)")
            #expect(!page.text.contains("<script>alert"), "\(target)")
            #expect(!page.text.contains("<img src=x"), "\(target)")
        }
        let run = await s.get("/runs/xss")
        #expect(run.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(run.text.contains("&lt;img src=x onerror=alert(2)&gt;"))
        // The 500-character param is cut, with the whole value one click away.
        #expect(run.text.contains("<details class=\"long\">"))
    }

    @Test func missingThingsAre404Pages() async throws {
        let s = try await Seeded()
        for target in ["/experiments/999", "/runs/nope", "/runs/run0000/metrics/nope", "/models/nope", "/nowhere", "/runs/run0000/artifacts/missing.txt"] {
            let page = await s.get(target)
            #expect(page.status == 404, "\(target)")
            #expect(page.contentType.hasPrefix("text/html"))
        }
    }

    @Test func runPageShowsEverythingRecorded() async throws {
        let s = try await Seeded()
        let page = await s.get("/runs/run0001")
        #expect(page.status == 200)
        for piece in ["r1", "model", "gb", "accuracy", "0.51", "/runs/run0001/metrics/accuracy"] { #expect(page.text.contains(piece), "\(piece)") }
        let withArtifact = await s.get("/runs/run0000")
        #expect(withArtifact.text.contains("/runs/run0000/artifacts/notes/readme.txt"))
        // A small image is shown from its artifact URL; a small text artifact is previewed, escaped.
        let png = try await s.blobs.put(Data([0x89, 0x50, 0x4E, 0x47]))
        try await s.store.recordArtifacts([ArtifactRecord(runID: s.runs[0], path: "plots/roc.png", digest: png.digest, size: png.size, createdAt: Timestamp(millisecondsSince1970: 0))])
        let withImage = await s.get("/runs/run0000")
        #expect(withImage.text.contains("<img loading=\"lazy\" style=\"max-width:480px\" src=\"/runs/run0000/artifacts/plots/roc.png\" alt=\"plots/roc.png\">"))
        let image = await s.get("/runs/run0000/artifacts/plots/roc.png")
        #expect(image.contentType == "image/png" && image.body == [0x89, 0x50, 0x4E, 0x47])
        #expect(withArtifact.text.contains("<details class=\"preview\" open><summary>notes/readme.txt</summary><pre>hello &lt;artifact&gt;</pre></details>"))
        // A running run's metrics refresh from a fragment; a finished one's do not.
        let running = await s.get("/runs/xss")
        #expect(running.text.contains("data-refresh=\"/runs/xss?fragment=metrics\""))
        #expect(!page.text.contains("data-refresh"))
        let fragment = await s.get("/runs/xss?fragment=metrics")
        #expect(fragment.headers.contains { $0 == ("X-Live", "1") })
        let file = await s.get("/runs/run0000/artifacts/notes/readme.txt")
        #expect(file.text == "hello <artifact>")
        #expect(file.contentType.hasPrefix("text/plain"))
    }

    @Test func metricChartKeepsEverySpikeInFewKilobytes() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 100_000)
        let page = await s.get("/runs/run0000/metrics/loss")
        #expect(page.status == 200)
        #expect(page.text.contains("100000 points → "))
        let svg = try #require(page.text.range(of: "<svg class=\"chart\"").map { page.text[$0.lowerBound...] })
        let end = try #require(svg.range(of: "</svg>"))
        #expect(svg[..<end.upperBound].utf8.count < 40_000)
        // The spike is the maximum: the line reaches the top of the plot (y = 12) at its step.
        let d = try #require(svg.range(of: "class=\"line\" d=\"").map { svg[$0.upperBound...].prefix { $0 != "\"" } })
        let points = MetricChart.points(ofPath: d)
        #expect(points.count > 800)
        let top = points.filter { $0.1 == 12 }
        #expect(top.count >= 1 && top.allSatisfy { abs($0.0 - (64 + Int(0.54321 * 824))) <= 1 }, "\(top)")
        #expect(points.allSatisfy { $0.1 >= 12 && $0.1 <= 264 })
        // The full series downloads.
        let csv = await s.get("/runs/run0000/metrics/loss?format=csv")
        #expect(csv.text.split(separator: "\n").count == 100_001)
        #expect(csv.text.contains("\n54321,"))
    }

    @Test func pathsAreRelativeWholePixelsThatReadBackExactly() {
        let pts: [(Double, Double)] = [(64, 200), (65, 197.4), (65, 197.4), (66, 202), (70, -3), (71, 0)]
        let d = MetricChart.path(pts, close: false)
        #expect(d == "M64 200l1-3 1 5 4-205 1 3")
        #expect(MetricChart.points(ofPath: d).map { [$0.0, $0.1] } == [[64, 200], [65, 197], [66, 202], [70, -3], [71, 0]])
        #expect(MetricChart.path([(1, -2)], close: true) == "M1-2Z")
    }

    @Test func downsamplingKeepsTheMaxAndMinOfEveryBucket() {
        var xs: [Double] = []
        var ys: [Double] = []
        var rng = SystemRandomNumberGenerator()
        for i in 0..<50_000 {
            xs.append(Double(i))
            ys.append(Double.random(in: -1...1, using: &rng))
        }
        let d = Downsampled(xs: xs, ys: ys, buckets: 100, logY: false)
        #expect(d.buckets.count == 100)
        for b in d.buckets {
            let inBucket = zip(xs, ys).filter { $0.0 >= b.x0 && ($0.0 < b.x1 || b.x1 >= xs.last!) }.map(\.1)
            #expect(b.max == inBucket.max())
            #expect(b.min == inBucket.min())
            #expect(b.count == inBucket.count)
        }
    }

    @Test func compareWorksAcrossExperiments() async throws {
        let s = try await Seeded()
        let other = try await s.store.createExperiment(NewExperiment(name: "other"), at: Timestamp(millisecondsSince1970: 0))
        let id = RunID(rawValue: "elsewhere")
        try await s.store.createRun(Run(id: id, experimentID: other.id, name: "elsewhere", startTime: Timestamp(millisecondsSince1970: 0)))
        try await s.store.logBatch(runID: id, params: [Param(key: "model", value: "svm")], metrics: [Metric(key: "accuracy", value: 0.99, timestamp: Timestamp(millisecondsSince1970: 0))], tags: [])
        let page = await s.get("/compare?runs=run0001&runs=elsewhere")
        #expect(page.status == 200)
        let text = page.text
        // The differing param is listed before the metrics section.
        let diff = try #require(text.range(of: "Params that differ"))
        let model = try #require(text.range(of: "<th>model</th>"))
        let metrics = try #require(text.range(of: "Metrics (latest)"))
        #expect(diff.upperBound < model.lowerBound && model.upperBound < metrics.lowerBound)
        #expect(text.contains("aria-label=\"parallel coordinates\"") || text.contains("Fewer than two numeric"))
        let missing = await s.get("/compare?runs=run0001&runs=ghost")
        #expect(missing.status == 404)
    }

    @Test func comparingHundredsOfRunsPagesTheTableAndBandsTheCurves() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        let t0 = Timestamp(millisecondsSince1970: 0)
        var ids: [String] = []
        for i in 0..<230 {
            let id = RunID(rawValue: String(format: "many%03d", i))
            ids.append(id.rawValue)
            try await s.store.createRun(Run(id: id, experimentID: s.experiment.id, name: "m\(i)", startTime: t0))
            // Run 170 (drawn by no line on the first page) has the one spike of all.
            var curve: [Metric] = []
            for step in 0..<1000 {
                let value: Double = i == 170 && step == 500 ? 50 : 1 / Double(step + 1)
                curve.append(Metric(key: "loss", value: value, step: Int64(step), timestamp: t0))
            }
            try await s.store.logBatch(runID: id, params: [Param(key: "lr", value: String(Double(i) / 1000))], metrics: curve, tags: [])
        }
        let all = ids.joined(separator: ",")
        let page = await s.get("/compare?runs=" + all)
        #expect(page.status == 200)
        let text = page.text
        #expect(page.body.count < 150_000, "\(page.body.count) bytes")
        // The table shows runs 1–100, with links to the other pages.
        #expect(text.contains(">m99</a>") && !text.contains(">m100</a>"))
        #expect(text.contains("runs 1–100 of 230 in the table"))
        #expect(text.contains("<b>1–100</b>") && text.contains("<button form=\"cmp\" name=\"at\" value=\"100\">101–200</button>"))
        #expect(text.contains("<button form=\"cmp\" name=\"at\" value=\"200\">201–230</button>"))
        // 50 lines; the band spans every run, so run 170's spike reaches the top of the plot.
        #expect(text.components(separatedBy: "class=\"line\"").count - 1 == 50)
        let env = try #require(text.range(of: "class=\"env\" d=\"").map { text[$0.upperBound...].prefix { $0 != "\"" } })
        #expect(MetricChart.points(ofPath: env).contains { $0.1 == 12 })
        #expect(text.contains("lines for runs 1–50, the shaded band spans all 230"))
        // One form carries every run, once; the pager and the metric picker submit it.
        #expect(text.components(separatedBy: all).count - 1 == 1)
        #expect(text.contains("<form id=\"cmp\" method=\"get\" action=\"/compare\"><input type=\"hidden\" name=\"runs\" value=\"\(all)\">"))
        #expect(text.contains("<select form=\"cmp\" name=\"metric\">"))
        // The theme links do not carry such a long way back; the switch uses the Referer instead,
        // keeping only its path (never another host).
        #expect(text.contains("<a href=\"/ui/theme?set=dark\">dark</a>"))
        let back = await s.ui.respond(to: UIRequest(target: "/ui/theme?set=dark", referer: "http://127.0.0.1:9/compare?runs=" + all))
        #expect(back.status == 303 && back.headers.contains { $0 == ("Location", "/compare?runs=" + all) })
        let elsewhere = await s.ui.respond(to: UIRequest(target: "/ui/theme?set=dark", referer: "http://evil.example//x"))
        #expect(elsewhere.headers.contains { $0 == ("Location", "/") })
        let third = await s.get("/compare?runs=\(all)&at=200")
        #expect(third.text.contains(">m229</a>") && !third.text.contains(">m199</a>") && third.text.contains("runs 201–230 of 230"))
        #expect(third.text.components(separatedBy: "class=\"line\"").count - 1 == 30)
    }

    @Test func modelsListAndDetailShowAliasesAndHistory() async throws {
        let s = try await Seeded()
        let list = await s.get("/models?q=production")
        #expect(list.text.contains(">churn-model</a>"))
        #expect(list.text.contains("production → v1"))
        let none = await s.get("/models?q=zzz")
        #expect(none.text.contains("No model matches"))
        let detail = await s.get("/models/churn-model")
        #expect(detail.status == 200)
        #expect(detail.text.contains("/runs/run0001"))
        #expect(detail.text.contains("gate passed"))
        #expect(detail.text.contains("bob"))
    }

    @Test func themeChoiceIsRenderedByTheServerAndKeptInACookie() async throws {
        let s = try await Seeded()
        let dark = await s.get("/", cookie: "other=1; flywheel_theme=dark")
        #expect(dark.text.hasPrefix("<!doctype html>\n<html lang=\"en\" data-theme=\"dark\">"))
        let auto = await s.get("/")
        #expect(auto.text.hasPrefix("<!doctype html>\n<html lang=\"en\">"))
        let set = await s.get("/ui/theme?set=light&back=%2Fmodels")
        #expect(set.status == 303)
        #expect(set.headers.contains { $0.0 == "Location" && $0.1 == "/models" })
        #expect(set.headers.contains { $0.0 == "Set-Cookie" && $0.1.hasPrefix("flywheel_theme=light;") })
        // No open redirect.
        let away = await s.get("/ui/theme?set=dark&back=https%3A%2F%2Fevil.example")
        #expect(away.headers.contains { $0.0 == "Location" && $0.1 == "/" })
    }

    @Test func assetsAreSmallAndEveryPageLinksOnlyToThisServer() async throws {
        let s = try await Seeded()
        #expect(Assets.script.utf8.count <= 15_000)
        #expect(Assets.stylesheet.utf8.count <= 15_000)
        let css = await s.get(Link.stylesheet.href)
        #expect(css.status == 200 && css.contentType.hasPrefix("text/css"))
        let js = await s.get(Link.script.href)
        #expect(js.status == 200)
        for target in ["/", "/experiments/\(s.experiment.id.rawValue)", "/runs/run0000", "/runs/run0000/metrics/loss", "/models", "/models/churn-model", "/compare?runs=run0000&runs=run0001", "/lineage?node=run:run0001"] {
            let page = await s.get(target)
            #expect(page.status == 200, "\(target)")
            #expect(page.body.count <= 150_000, "\(target)")
            for attr in ["src=\"", "href=\""] {
                var rest = Substring(page.text)
                while let r = rest.range(of: attr) {
                    rest = rest[r.upperBound...]
                    let url = rest.prefix { $0 != "\"" }
                    #expect(url.hasPrefix("/") || url.hasPrefix("#") || url.hasPrefix("data:"), "\(target): \(url)")
                }
            }
        }
    }

    // MARK: helpers

    /// The run names in the runs table, in order.
    static func runNames(_ html: String) -> [String] {
        var out: [String] = []
        var rest = Substring(html)
        while let r = rest.range(of: "<a href=\"/runs/") {
            rest = rest[r.upperBound...]
            guard let close = rest.range(of: "\">"), let end = rest.range(of: "</a>") else { break }
            out.append(String(rest[close.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return out
    }

    /// The (unescaped) href of the first link whose text is `label`.
    static func href(_ html: String, label: String) -> String? {
        guard let end = html.range(of: "\">\(label)</a>") else { return nil }
        let before = html[..<end.lowerBound]
        guard let start = before.range(of: "href=\"", options: .backwards) else { return nil }
        return String(before[start.upperBound...]).replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
    }
}
