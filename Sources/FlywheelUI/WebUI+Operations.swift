import FlywheelCore
import FlywheelMonitoring
import FlywheelRegistry
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
            guard let uri = try? ModelURI(parsing: ref) else { continue }
            // A model deleted since the spec was applied leaves its route unresolved, not the page broken.
            switch uri.selector {
            case .version(let n): resolved[ref] = n
            case .alias(let a): resolved[ref] = try await orEmpty { try await store.aliases(model: uri.name) }[a]
            case .latest: resolved[ref] = try await orEmpty { try await store.modelVersions(model: uri.name) }.map(\.version).max()
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
                    h.link(.model((try? ModelURI(parsing: ref))?.name ?? ref), ref)
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
            if let traffic {
                Self.trafficSection(&h, name: name, traffic: traffic, now: clock.now(), request: r)
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

    static let trafficWindows = [15, 60, 180]

    /// Request rate, error rate and p50/p95 latency per version, minute by minute, from this
    /// server's own count of the requests it answered (`?minutes=` picks the window).
    static func trafficSection(_ h: inout HTML, name: String, traffic: TrafficHistory, now: Timestamp, request r: UIRequest) {
        let window = r.value("minutes").flatMap(Int.init).flatMap { trafficWindows.contains($0) ? $0 : nil } ?? 60
        let nowDate = Date(timeIntervalSince1970: Double(now.millisecondsSince1970) / 1000)
        let from = Int64((nowDate.timeIntervalSince1970 / 60).rounded(.down)) - Int64(window) + 1
        let series = traffic.series(deployment: name, now: nowDate).mapValues { $0.filter { $0.minute >= from } }.filter { !$0.value.isEmpty }
        h.raw("<h2>Traffic on this server</h2><p class=\"muted\">last ")
        Layout.choices(&h, trafficWindows, current: window, label: { "\($0) min" }, link: { Link(path: ["deployments", name], query: [("minutes", String($0))]) })
        h.raw("· per minute, since this server started; every replica counts its own (Prometheus at <code>/metrics</code> keeps the long history)</p>")
        guard !series.isEmpty else {
            h.raw("<p class=\"muted\">no requests in this window</p>")
            return
        }
        // Versions as numbers sort 1, 2, 10; "none" (refused before a version was chosen) last.
        let versions = series.keys.sorted { (Int($0) ?? .max, $0) < (Int($1) ?? .max, $1) }
        func label(_ v: String) -> String { Int(v) != nil ? "v\(v)" : v }
        h.raw("<table><thead><tr><th>Version</th><th class=\"n\">Requests</th><th class=\"n\">Per second</th><th class=\"n\">4xx</th><th class=\"n\">5xx</th><th class=\"n\">Error rate</th><th class=\"n\">p50</th><th class=\"n\">p95</th></tr></thead><tbody>")
        for v in versions {
            let minutes = series[v] ?? []
            let requests = minutes.reduce(0) { $0 + $1.requests }
            let server = minutes.reduce(0) { $0 + $1.serverErrors }
            let client = minutes.reduce(0) { $0 + $1.clientErrors }
            h.raw("<tr><td>")
            h.text(label(v))
            h.raw("</td><td class=\"n\">")
            h.int(requests)
            h.raw("</td><td class=\"n\">")
            h.text(String(format: "%.2f", Double(requests) / Double(window * 60)))
            h.raw("</td><td class=\"n\">")
            h.int(client)
            h.raw("</td><td class=\"n\">")
            h.int(server)
            h.raw("</td><td class=\"n\">")
            h.text(requests > 0 ? String(format: "%.2f%%", Double(server) * 100 / Double(requests)) : "")
            for q in [0.5, 0.95] {
                h.raw("</td><td class=\"n\">")
                if let s = TrafficHistory.Minute.quantile(q, of: minutes) { h.text(Format.latency(seconds: s)) }
            }
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
        var options = ChartOptions()
        options.x = .wall
        let names = versions.map(label)
        // The x axis spans the window, so a burst reads as a burst; a rate is 0 in a minute
        // without requests, a latency has no point there.
        let last = Int64((nowDate.timeIntervalSince1970 / 60).rounded(.down))
        func chart(_ title: String, zeroWhenIdle: Bool = false, _ value: (TrafficHistory.Minute) -> Double?) {
            let drawn = versions.map { v in
                var byMinute: [Int64: TrafficHistory.Minute] = [:]
                for m in series[v] ?? [] { byMinute[m.minute] = m }
                let points: [(Double, Double)] = (from...last).compactMap { minute in
                    guard let m = byMinute[minute] else { return zeroWhenIdle ? (Double(minute * 60), 0) : nil }
                    return value(m).map { (Double(minute * 60), $0) }
                }
                return Downsampled(xs: points.map(\.0), ys: points.map(\.1), buckets: MetricChart.buckets, logY: false)
            }
            h.raw("<h3>")
            h.text(title)
            h.raw("</h3>")
            h.append(MetricChart.svg(drawn, names: names, options: options, title: title))
        }
        MetricChart.legend(&h, names)
        h.raw("<div class=\"grid wide\"><div>")
        chart("requests per second", zeroWhenIdle: true) { Double($0.requests) / 60 }
        h.raw("</div><div>")
        chart("server error rate (%)") { $0.requests > 0 ? Double($0.serverErrors) * 100 / Double($0.requests) : nil }
        h.raw("</div><div>")
        chart("p50 latency (ms)") { TrafficHistory.Minute.quantile(0.5, of: [$0]).map { $0 * 1000 } }
        h.raw("</div><div>")
        chart("p95 latency (ms)") { TrafficHistory.Minute.quantile(0.95, of: [$0]).map { $0 * 1000 } }
        h.raw("</div></div>")
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
        let deployment = MonitorSpec.parse(monitor.spec).spec?.deployment
        var served: [Int64: [ServedVersion]] = [:]
        if let deployment {
            served = try await servedVersions(deployment: deployment, at: Dictionary(uniqueKeysWithValues: alerts.map { ($0.id, $0.firedAt) }))
        }
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
            Self.alertTable(&h, alerts, actions: actions, served: served)
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

    /// A model version a deployment served at some moment, and the run that trained it.
    struct ServedVersion: Sendable {
        var model: String
        var version: Int
        var run: RunID?
    }

    /// What `deployment` served at each of `times`: the revision then in force, each route's
    /// alias resolved through the registry's alias history as of that moment (so a later rollout
    /// does not rewrite what an old alert was about). The history and each model's events and
    /// versions are read once for all the moments.
    func servedVersions(deployment: String, at times: [Int64: Timestamp]) async throws -> [Int64: [ServedVersion]] {
        let history = try await store.deploymentHistory(named: deployment)
        var events: [String: [RegistryEvent]] = [:]
        var versions: [String: [ModelVersion]] = [:]
        var out: [Int64: [ServedVersion]] = [:]
        for (key, time) in times {
            var list: [ServedVersion] = []
            defer { out[key] = list }
            guard let revision = history.filter({ $0.time <= time }).max(by: { $0.revision < $1.revision }), revision.action == .applied,
                let spec = DeploymentSpec.parse(revision.spec).spec
            else { continue }
            for ref in spec.routes.map(\.model) {
                guard let uri = try? ModelURI(parsing: ref) else { continue }
                if events[uri.name] == nil {
                    events[uri.name] = try await orEmpty { try await store.registryEvents(model: uri.name) }
                    versions[uri.name] = try await orEmpty { try await store.modelVersions(model: uri.name) }
                }
                let version: Int?
                switch uri.selector {
                case .version(let n): version = n
                case .alias(let alias):
                    let moves = (events[uri.name] ?? []).filter {
                        $0.alias == alias && $0.time <= time && ($0.kind == .aliasSet || $0.kind == .aliasDeleted)
                    }
                    version = moves.max(by: { $0.time < $1.time }).flatMap { $0.kind == .aliasSet ? $0.version : nil }
                case .latest: version = (versions[uri.name] ?? []).filter { $0.createdAt <= time }.map(\.version).max()
                }
                guard let version, !list.contains(where: { $0.model == uri.name && $0.version == version }) else { continue }
                let run = versions[uri.name]?.first { $0.version == version }?.runID
                list.append(ServedVersion(model: uri.name, version: version, run: run))
            }
        }
        return out
    }

    /// A list read for a model that may have been deleted since: empty then, not an error page.
    func orEmpty<T>(_ read: () async throws -> [T]) async throws -> [T] {
        do { return try await read() } catch let e as FlywheelError where e.code == .notFound { return [] }
    }

    /// The same for a map (a deleted model's aliases).
    func orEmpty<K, V>(_ read: () async throws -> [K: V]) async throws -> [K: V] {
        do { return try await read() } catch let e as FlywheelError where e.code == .notFound { return [:] }
    }

    static func alertTable(_ h: inout HTML, _ alerts: [Alert], actions: [Int64: [AlertActionRecord]], served: [Int64: [ServedVersion]]? = nil) {
        let head: StaticString =
            served == nil
            ? "<th>Monitor</th><th>Rule</th><th>State</th><th>Fired</th><th>Resolved</th><th>Message</th><th>Actions</th>"
            : "<th>Monitor</th><th>Rule</th><th>State</th><th>Fired</th><th>Resolved</th><th>Message</th><th>Serving then</th><th>Actions</th>"
        Layout.table(&h, alerts.sorted(by: { $0.firedAt > $1.firedAt }), head: head) { h, a in
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
            if let served {
                // alert → the version it was about → the run that trained it.
                for v in served[a.id] ?? [] {
                    h.link(.modelVersion(v.model, v.version), "\(v.model) v\(v.version)")
                    if let run = v.run {
                        h.raw(" ← run ")
                        h.link(.run(run), String(run.rawValue.prefix(8)))
                    }
                    h.raw("<br>")
                }
                h.raw("</td><td>")
            }
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
