import FlywheelCore
import Foundation

extension WebUI {
    /// `/models`: registered models, searchable by name, alias or label (`?q=`).
    func modelsPage(_ r: UIRequest) async throws -> UIResponse {
        let q = (r.value("q") ?? "").trimmingCharacters(in: .whitespaces)
        let models = try await store.listModels()
        let rows = try await withThrowingTaskGroup(of: (RegisteredModel, [String: Int], Int).self) { group in
            for m in models {
                group.addTask { (m, try await store.aliases(model: m.name), try await store.modelVersions(model: m.name).count) }
            }
            var out: [(RegisteredModel, [String: Int], Int)] = []
            for try await row in group { out.append(row) }
            return out
        }
        let shown = rows.filter { m, aliases, _ in
            q.isEmpty || m.name.localizedCaseInsensitiveContains(q) || aliases.keys.contains { $0.localizedCaseInsensitiveContains(q) }
                || m.labels.contains { "\($0.key)=\($0.value)".localizedCaseInsensitiveContains(q) }
        }
        .sorted { $0.0.updatedAt > $1.0.updatedAt }
        let html = Layout.page(title: "Models", section: .models, request: r) { h in
            h.raw("<h1>Models</h1><form class=\"bar\" method=\"get\" action=\"/models\"><input type=\"search\" name=\"q\" placeholder=\"name, alias or label\"")
            h.attribute("value", q)
            h.raw("><button>Search</button></form>")
            guard !shown.isEmpty else {
                h.raw(models.isEmpty ? "<p class=\"muted\">No registered models yet.</p>" : "<p class=\"muted\">No model matches.</p>")
                return
            }
            h.raw("<table><thead><tr><th>Name</th><th class=\"n\">Versions</th><th>Aliases</th><th>Labels</th><th>Updated</th></tr></thead><tbody>")
            for (m, aliases, count) in shown {
                h.raw("<tr><td>")
                h.link(.model(m.name), m.name)
                h.raw("</td><td class=\"n\">")
                h.int(count)
                h.raw("</td><td>")
                h.text(aliases.sorted { $0.key < $1.key }.map { "\($0.key) → v\($0.value)" }.joined(separator: ", "))
                h.raw("</td><td>")
                h.text(m.labels.formatted)
                h.raw("</td><td>")
                h.time(m.updatedAt)
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        return UIResponse(body: html)
    }

    /// `/models/NAME`: versions with their aliases, status and source run, and the alias history
    /// with who moved what and why.
    func modelPage(_ r: UIRequest, name: String) async throws -> UIResponse {
        guard let model = try await store.model(named: name) else { throw FlywheelError.notFound("no registered model named '\(name)'") }
        async let versionsQ = store.modelVersions(model: name)
        async let aliasesQ = store.aliases(model: name)
        async let eventsQ = store.registryEvents(model: name)
        let (versions, aliases, events) = try await (versionsQ, aliasesQ, eventsQ)
        var byVersion: [Int: [String]] = [:]
        for (a, v) in aliases { byVersion[v, default: []].append(a) }
        let html = Layout.page(title: name, section: .models, request: r) { h in
            h.raw("<p class=\"muted\"><a href=\"/models\">Models</a> ›</p><h1>")
            h.text(name)
            h.raw("</h1>")
            if !model.description.isEmpty {
                h.raw("<p>")
                h.truncated(model.description, limit: 300)
                h.raw("</p>")
            }
            h.raw("<h2>Versions</h2>")
            Layout.table(
                &h, versions.sorted(by: { $0.version > $1.version }),
                head: "<th>Version</th><th>Aliases</th><th>Status</th><th>Source run</th><th>Digest</th><th>Created</th><th>Description</th>"
            ) { h, v in
                h.raw("<tr")
                h.attribute("id", "v\(v.version)")
                h.raw("><td>v")
                h.int(v.version)
                h.raw("</td><td>")
                for a in (byVersion[v.version] ?? []).sorted() {
                    h.raw("<span class=\"badge ready\">")
                    h.text(a)
                    h.raw("</span> ")
                }
                h.raw("</td><td>")
                Layout.badge(&h, v.status.rawValue)
                h.raw("</td><td>")
                if let run = v.runID { h.link(.run(run), run.rawValue) } else { h.text(v.source) }
                h.raw("</td><td><code>")
                h.text(v.digest.map { String($0.hex.prefix(12)) } ?? "")
                h.raw("</code></td><td>")
                h.time(v.createdAt)
                h.raw("</td><td>")
                h.truncated(v.description, limit: 80)
                h.raw("</td></tr>")
            }
            h.raw("<h2>History</h2>")
            Layout.table(&h, events.sorted(by: { $0.time > $1.time }), head: "<th>When</th><th>What</th><th>Who</th><th>Why</th>") { h, e in
                h.raw("<tr><td>")
                h.time(e.time)
                h.raw("</td><td>")
                h.text(Self.describe(e))
                h.raw("</td><td>")
                h.text(e.actor)
                h.raw("</td><td>")
                h.truncated(e.reason, limit: 100)
                h.raw("</td></tr>")
            }
        }
        return UIResponse(body: html)
    }

    static func describe(_ e: RegistryEvent) -> String {
        var s = e.kind.rawValue.replacingOccurrences(of: "_", with: " ")
        if let a = e.alias { s += " @\(a)" }
        if let p = e.previousVersion, let v = e.version { s += ": v\(p) → v\(v)" } else if let v = e.version { s += ": v\(v)" }
        if let st = e.status { s += " (\(e.previousStatus.map { "\($0.rawValue) → " } ?? "")\(st.rawValue))" }
        return s
    }

    /// `/lineage?node=KIND:ID`: what a node came from and what came of it, two levels each way.
    func lineagePage(_ r: UIRequest) async throws -> UIResponse {
        guard let text = r.value("node"), !text.isEmpty else {
            throw FlywheelError.invalidArgument("name a node: /lineage?node=run:ID (kinds: \(ResourceRef.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let node = try ResourceRef(parsing: text)
        async let upQ = store.lineage(of: node, direction: .upstream)
        async let downQ = store.lineage(of: node, direction: .downstream)
        let (up, down) = try await (upQ, downQ)
        let html = Layout.page(title: "Lineage of \(node)", section: nil, request: r) { h in
            h.raw("<h1>Lineage of ")
            if let link = Link.node(node), node.kind != .dataset, node.kind != .artifact { h.link(link, node.description) } else { h.text(node.description) }
            h.raw("</h1>")
            h.append(LineageGraph.svg(node, up: up, down: down))
            Self.lineageLists(&h, node, up: up, down: down)
        }
        return UIResponse(body: html)
    }
}

/// Three columns: upstream nodes, the node, downstream nodes; each edge a line with its relation.
enum LineageGraph {
    static func svg(_ node: ResourceRef, up: [LineageEdge], down: [LineageEdge]) -> Fragment {
        let left = Array(Set(up.map(\.source))).sorted().prefix(40)
        let right = Array(Set(down.map(\.target))).sorted().prefix(40)
        let rows = max(left.count, right.count, 1)
        let height = max(80, rows * 34 + 20)
        var h = HTML(capacity: 8_000)
        h.raw("<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"960\"")
        h.attribute("height", String(height))
        h.attribute("viewBox", "0 0 960 \(height)")
        h.raw(" role=\"img\" aria-label=\"lineage graph\">")
        func y(_ i: Int, _ n: Int) -> Int { n == 0 ? height / 2 : (height - n * 34) / 2 + i * 34 + 17 }
        func box(_ ref: ResourceRef, x: Int, y: Int) {
            h.raw("<a")
            h.attribute("href", (Link.node(ref) ?? .lineage(ref)).href)
            h.raw("><rect rx=\"4\" width=\"280\" height=\"26\" fill=\"none\" stroke=\"currentColor\" class=\"axis\"")
            h.attribute("x", String(x))
            h.attribute("y", String(y - 13))
            h.raw("/><text")
            h.attribute("x", String(x + 8))
            h.attribute("y", String(y + 4))
            h.raw(">")
            let label = ref.description
            h.text(label.count > 42 ? String(label.prefix(41)) + "…" : label)
            h.raw("</text></a>")
        }
        let mid = height / 2
        for (i, ref) in left.enumerated() {
            h.raw("<path class=\"axis\"")
            h.attribute("d", "M300 \(y(i, left.count))L340 \(mid)")
            h.raw("/>")
            box(ref, x: 20, y: y(i, left.count))
        }
        for (i, ref) in right.enumerated() {
            h.raw("<path class=\"axis\"")
            h.attribute("d", "M620 \(mid)L660 \(y(i, right.count))")
            h.raw("/>")
            box(ref, x: 660, y: y(i, right.count))
        }
        box(node, x: 340, y: mid)
        h.raw("</svg>")
        return Fragment(h)
    }
}
