import FlywheelCore
import FlywheelServing
import Foundation

extension WebUI {
    /// `/deployments`: every live deployment and its current revision.
    func deploymentsPage(_ r: UIRequest) async throws -> UIResponse {
        let deployments = try await store.listDeployments().filter { $0.action == .applied }
        let html = Layout.page(title: "Deployments", section: .deployments, request: r) { h in
            h.raw("<h1>Deployments</h1>")
            guard !deployments.isEmpty else {
                h.raw("<p class=\"muted\">No deployments: <code>flywheel deploy apply deployment.yaml</code>.</p>")
                return
            }
            h.raw("<table><thead><tr><th>Name</th><th class=\"n\">Revision</th><th>Applied</th><th>By</th></tr></thead><tbody>")
            for d in deployments.sorted(by: { $0.name < $1.name }) {
                h.raw("<tr><td>")
                h.link(.deployment(d.name), d.name)
                h.raw("</td><td class=\"n\">")
                h.int(d.revision)
                h.raw("</td><td>")
                h.time(d.time)
                h.raw("</td><td>")
                h.text(d.actor)
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        return UIResponse(body: html)
    }

    /// `/deployments/NAME`: the spec in force (routes and traffic split) and every revision.
    func deploymentPage(_ r: UIRequest, name: String) async throws -> UIResponse {
        let history = try await store.deploymentHistory(named: name)
        guard let current = history.max(by: { $0.revision < $1.revision }) else {
            throw FlywheelError.notFound("no deployment named '\(name)'")
        }
        // The routes in force, each model reference resolved to the version it serves now.
        let spec = current.action == .applied ? DeploymentSpec.parse(current.spec).spec : nil
        var resolved: [String: Int] = [:]
        for ref in spec?.references ?? [] {
            if let at = ref.firstIndex(of: "@") {
                let model = String(ref[..<at])
                if let v = try await store.aliases(model: model)[String(ref[ref.index(after: at)...])] { resolved[ref] = v }
            } else if let slash = ref.lastIndex(of: "/"), let v = Int(ref[ref.index(after: slash)...]) {
                resolved[ref] = v
            }
        }
        let html = Layout.page(title: name, section: .deployments, request: r) { h in
            h.raw("<p class=\"muted\"><a href=\"/deployments\">Deployments</a> ›</p><h1>")
            h.text(name)
            if current.action == .deleted { h.raw(" <span class=\"badge failed\">deleted</span>") }
            h.raw("</h1>")
            if let spec {
                let total = spec.routes.reduce(0) { $0 + $1.weight }
                h.raw("<h2>Routes</h2><table><thead><tr><th>Role</th><th>Model</th><th>Serves</th><th class=\"n\">Traffic</th><th></th></tr></thead><tbody>")
                var rows: [(String, String, Double?)] = spec.routes.map { ("route", $0.model, total > 0 ? $0.weight / total : nil) }
                rows += spec.shadow.map { ("shadow", $0, nil) }
                if case .model(let m)? = spec.fallback { rows.append(("fallback", m, nil)) }
                for (role, ref, share) in rows {
                    h.raw("<tr><td>")
                    h.text(role)
                    h.raw("</td><td>")
                    let model = String(ref.prefix { $0 != "@" && $0 != "/" })
                    h.link(.model(model), ref)
                    h.raw("</td><td>")
                    if let v = resolved[ref] {
                        h.raw("v")
                        h.int(v)
                    } else {
                        h.raw("<span class=\"badge failed\">unresolved</span>")
                    }
                    h.raw("</td><td class=\"n\">")
                    if let share {
                        h.text(String(format: "%.0f%%", share * 100))
                        h.raw("</td><td><svg width=\"120\" height=\"10\" role=\"img\" aria-label=\"traffic share\"><rect class=\"axis\" width=\"120\" height=\"10\"/><rect height=\"10\" fill=\"currentColor\"")
                        h.attribute("width", String(Int((share * 120).rounded())))
                        h.raw("/></svg>")
                    } else {
                        h.raw("copy</td><td>")
                    }
                    h.raw("</td></tr>")
                }
                h.raw("</tbody></table>")
            }
            h.raw("<h2>Spec (revision ")
            h.int(current.revision)
            h.raw(")</h2><pre>")
            h.text(current.spec)
            h.raw("</pre><h2>Revisions</h2><table><thead><tr><th class=\"n\">Revision</th><th>Action</th><th>When</th><th>By</th><th>Spec</th></tr></thead><tbody>")
            for rev in history.sorted(by: { $0.revision > $1.revision }) {
                h.raw("<tr><td class=\"n\">")
                h.int(rev.revision)
                h.raw("</td><td>")
                h.text(rev.action.rawValue)
                h.raw("</td><td>")
                h.time(rev.time)
                h.raw("</td><td>")
                h.text(rev.actor)
                h.raw("</td><td>")
                h.truncated(rev.spec.replacingOccurrences(of: "\n", with: " ⏎ "), limit: 80)
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        return UIResponse(body: html)
    }

    /// `/monitors`: each monitor with its latest check, and the alerts still firing.
    func monitorsPage(_ r: UIRequest) async throws -> UIResponse {
        let monitors = try await store.listMonitors()
        let latest = try await withThrowingTaskGroup(of: (String, MonitorCheck?).self) { group in
            for m in monitors { group.addTask { (m.name, try await store.monitorChecks(monitor: m.name, since: nil, limit: 1).last) } }
            var out: [String: MonitorCheck] = [:]
            for try await (name, check) in group { out[name] = check }
            return out
        }
        let firing = try await store.alerts(monitor: nil, state: .firing, limit: 200)
        let html = Layout.page(title: "Monitors", section: .monitors, request: r) { h in
            h.raw("<h1>Monitors</h1>")
            if monitors.isEmpty {
                h.raw("<p class=\"muted\">No monitors: <code>flywheel monitor apply monitor.yaml</code>.</p>")
            } else {
                h.raw("<table><thead><tr><th>Monitor</th><th>Last check</th><th>Status</th><th>Message</th></tr></thead><tbody>")
                for m in monitors.sorted(by: { $0.name < $1.name }) {
                    h.raw("<tr><td>")
                    h.link(.monitor(m.name), m.name)
                    h.raw("</td>")
                    if let c = latest[m.name] {
                        h.raw("<td>")
                        h.time(c.time)
                        h.raw("</td><td>")
                        Layout.badge(&h, c.status.rawValue)
                        h.raw("</td><td>")
                        h.truncated(c.message, limit: 100)
                        h.raw("</td>")
                    } else {
                        h.raw("<td colspan=\"3\" class=\"muted\">not checked yet</td>")
                    }
                    h.raw("</tr>")
                }
                h.raw("</tbody></table>")
            }
            h.raw("<h2>Firing alerts</h2>")
            Self.alertTable(&h, firing, actions: [:])
        }
        return UIResponse(body: html)
    }

    /// `/monitors/NAME`: each score over time against its threshold, the checks, and the alerts
    /// with the actions they ran.
    func monitorPage(_ r: UIRequest, name: String) async throws -> UIResponse {
        guard let monitor = try await store.monitor(named: name) else { throw FlywheelError.notFound("no monitor named '\(name)'") }
        async let checksQ = store.monitorChecks(monitor: name, since: nil, limit: 500)
        async let alertsQ = store.alerts(monitor: name, state: nil, limit: 100)
        let (checks, alerts) = try await (checksQ, alertsQ)
        var actions: [Int64: [AlertActionRecord]] = [:]
        for a in alerts { actions[a.id] = try await store.alertActions(alertID: a.id) }
        // One series per result (feature × method): score by check time.
        var series: [String: [(Double, Double)]] = [:]
        var thresholds: [String: Double] = [:]
        for c in checks {
            for res in c.results {
                guard let score = res.score, score.isFinite else { continue }
                let key = "\(res.name) (\(res.method))"
                series[key, default: []].append((Double(c.time.millisecondsSince1970) / 1000, score))
                if let t = res.threshold { thresholds[key] = t }
            }
        }
        let html = Layout.page(title: name, section: .monitors, request: r) { h in
            h.raw("<p class=\"muted\"><a href=\"/monitors\">Monitors</a> ›</p><h1>")
            h.text(name)
            h.raw("</h1><details><summary>Spec</summary><pre>")
            h.text(monitor.spec)
            h.raw("</pre></details><h2>Scores over time</h2>")
            if series.isEmpty { h.raw("<p class=\"muted\">no scores yet</p>") }
            var options = ChartOptions()
            options.x = .wall
            for (key, points) in series.sorted(by: { $0.key < $1.key }).prefix(40) {
                h.raw("<h3>")
                h.text(key)
                if let t = thresholds[key] {
                    h.raw(" <span class=\"muted\">threshold ")
                    h.number(t)
                    h.raw("</span>")
                }
                h.raw("</h3>")
                let sorted = points.sorted { $0.0 < $1.0 }
                var xs = sorted.map(\.0)
                var ys = sorted.map(\.1)
                var all = [Downsampled(xs: xs, ys: ys, buckets: MetricChart.buckets, logY: false)]
                if let t = thresholds[key], let first = xs.first, let last = xs.last {
                    xs = [first, last]
                    ys = [t, t]
                    all.append(Downsampled(xs: xs, ys: ys, buckets: MetricChart.buckets, logY: false))
                }
                h.append(MetricChart.svg(all, names: [key, "threshold"], options: options, title: key))
            }
            h.raw("<h2>Alerts</h2>")
            Self.alertTable(&h, alerts, actions: actions)
            h.raw("<h2>Checks</h2>")
            Layout.table(
                &h, Array(checks.sorted(by: { $0.time > $1.time }).prefix(100)),
                head: "<th>When</th><th>Status</th><th class=\"n\">Rows</th><th>Breached</th><th>Message</th>"
            ) { h, c in
                h.raw("<tr><td>")
                h.time(c.time)
                h.raw("</td><td>")
                Layout.badge(&h, c.status.rawValue)
                h.raw("</td><td class=\"n\">")
                h.int(c.currentRows)
                h.raw("</td><td>")
                h.text(c.breachedRules.joined(separator: ", "))
                h.raw("</td><td>")
                h.truncated(c.message, limit: 100)
                h.raw("</td></tr>")
            }
        }
        return UIResponse(body: html)
    }

    static func alertTable(_ h: inout HTML, _ alerts: [Alert], actions: [Int64: [AlertActionRecord]]) {
        Layout.table(
            &h, alerts.sorted(by: { $0.firedAt > $1.firedAt }),
            head: "<th>Monitor</th><th>Rule</th><th>State</th><th>Fired</th><th>Resolved</th><th>Message</th><th>Actions</th>"
        ) { h, a in
            h.raw("<tr><td>")
            h.link(.monitor(a.monitor), a.monitor)
            h.raw("</td><td>")
            h.text(a.rule)
            h.raw("</td><td>")
            Layout.badge(&h, a.state.rawValue)
            h.raw("</td><td>")
            h.time(a.firedAt)
            h.raw("</td><td>")
            if let t = a.resolvedAt { h.time(t) }
            h.raw("</td><td>")
            h.truncated(a.message, limit: 100)
            h.raw("</td><td>")
            for act in actions[a.id] ?? [] {
                h.text("\(act.kind) \(act.target): \(act.outcome.rawValue)")
                if !act.message.isEmpty {
                    h.raw(" <span class=\"muted\">")
                    h.truncated(act.message, limit: 80)
                    h.raw("</span>")
                }
                h.raw("<br>")
            }
            h.raw("</td></tr>")
        }
    }
}
