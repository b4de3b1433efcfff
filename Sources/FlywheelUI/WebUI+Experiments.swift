import FlywheelCore
import Foundation

extension WebUI {
    /// `/` and `/experiments`: every experiment with its run count and last activity, searchable by
    /// name or label (`?q=`), archived ones on request (`?archived=1`).
    func experimentsPage(_ r: UIRequest) async throws -> UIResponse {
        let q = (r.value("q") ?? "").trimmingCharacters(in: .whitespaces)
        let archived = r.value("archived") == "1"
        async let all = store.listExperiments(includeArchived: archived)
        async let activity = store.experimentActivity()
        let (experiments, counts) = try await (all, activity)
        let shown = experiments.filter { e in
            q.isEmpty || e.name.localizedCaseInsensitiveContains(q)
                || e.labels.contains { "\($0.key)=\($0.value)".localizedCaseInsensitiveContains(q) }
        }
        .sorted { (counts[$0.id]?.lastActivity ?? $0.updatedAt) > (counts[$1.id]?.lastActivity ?? $1.updatedAt) }
        let html = Layout.page(title: "Experiments", section: .experiments, request: r) { h in
            h.raw("<h1>Experiments</h1><form class=\"bar\" method=\"get\" action=\"/experiments\">")
            h.raw("<input type=\"search\" name=\"q\" placeholder=\"name or label\"")
            h.attribute("value", q)
            h.raw("><label><input type=\"checkbox\" name=\"archived\" value=\"1\"")
            if archived { h.raw(" checked") }
            h.raw("> archived too</label><button>Search</button></form>")
            guard !shown.isEmpty else {
                h.raw("<p class=\"muted\">")
                if experiments.isEmpty {
                    h.raw("No experiments yet: <code>flywheel runs create</code>, <code>flywheel quickstart</code> or any mlflow client logs one.")
                } else {
                    h.raw("No experiment matches.")
                }
                h.raw("</p>")
                return
            }
            h.raw("<table><thead><tr><th>Name</th><th>ID</th><th class=\"n\">Runs</th><th>Last activity</th><th>Labels</th><th>Description</th></tr></thead><tbody>")
            for e in shown {
                let a = counts[e.id]
                h.raw("<tr><td>")
                h.link(.experiment(e.id), e.name)
                if e.archived { h.raw(" <span class=\"badge\">archived</span>") }
                h.raw("</td><td class=\"muted\">")
                h.text(e.id.rawValue)
                h.raw("</td><td class=\"n\">")
                h.int(a?.runs ?? 0)
                h.raw("</td><td>")
                h.time(a?.lastActivity ?? e.updatedAt)
                h.raw("</td><td>")
                h.text(e.labels.formatted)
                h.raw("</td><td>")
                h.truncated(e.description, limit: 80)
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        return UIResponse(body: html)
    }
}
