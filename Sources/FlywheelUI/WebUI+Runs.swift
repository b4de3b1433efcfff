import FlywheelCore
import Foundation

extension WebUI {
    /// `/experiments/ID`: the runs table. The store sorts, filters and pages (one page of rows is
    /// read, never the experiment); only the chosen columns are rendered.
    func runsTablePage(_ r: UIRequest, experiment id: ExperimentID) async throws -> UIResponse {
        guard let experiment = try await store.experiment(id: id) else {
            throw FlywheelError.notFound("no experiment with id '\(id.rawValue)'")
        }
        let state = RunsTableState(r)
        // A cell's button: AND its clause onto the filter, then show the table at its own URL.
        // A header's button: sort by its field (a second press flips the direction).
        if let clause = r.value("n"), !clause.trimmingCharacters(in: .whitespaces).isEmpty {
            return UIResponse(status: 303, body: "", headers: [("Location", Link.experiment(id, state.narrowed(by: clause)).href)])
        }
        if let field = r.value("sort"), !field.trimmingCharacters(in: .whitespaces).isEmpty {
            return UIResponse(status: 303, body: "", headers: [("Location", Link.experiment(id, state.sorted(by: field)).href)])
        }
        var problem: String?
        var query = RunQuery(experimentIDs: [id], limit: state.size, pageToken: state.page.isEmpty ? nil : state.page, lifecycle: state.view)
        do {
            if !state.filter.trimmingCharacters(in: .whitespaces).isEmpty { query.filter = try RunFilter(parsing: state.filter) }
            if !state.order.trimmingCharacters(in: .whitespaces).isEmpty { query.orderBy = try RunOrder.parseList(state.order) }
        } catch {
            problem = FlywheelError.message(of: error)
        }
        var page = RunPage(runs: [], nextPageToken: nil)
        if problem == nil {
            do {
                page = try await store.searchRuns(query)
            } catch let e as FlywheelError where e.code == .invalidArgument {
                problem = e.message
            }
        }
        let columns = Self.columns(state, page.runs)
        let html = Layout.page(title: experiment.name, section: .experiments, request: r) { h in
            h.raw("<h1>")
            h.text(experiment.name)
            h.raw(" <span class=\"muted\">experiment ")
            h.text(id.rawValue)
            h.raw("</span></h1>")
            if !experiment.description.isEmpty {
                h.raw("<p>")
                h.truncated(experiment.description, limit: 300)
                h.raw("</p>")
            }
            Self.filterBar(&h, id, state)
            if let problem {
                h.raw("<p class=\"error\">")
                h.text(problem)
                h.raw("</p>")
            }
            Self.columnPicker(&h, id, state, page.runs, search: (r.value("keys") ?? "").trimmingCharacters(in: .whitespaces))
            Self.runsTable(&h, id, state, columns, page.runs)
            h.raw("<div class=\"pager\"><span class=\"muted\">")
            h.int(page.runs.count)
            h.raw(page.runs.count == 1 ? " run on this page</span>" : " runs on this page</span>")
            if !state.page.isEmpty { h.link(.experiment(id, state.with { $0.page = "" }), "« first page") }
            if let next = page.nextPageToken { h.link(.experiment(id, state.with { $0.page = next }), "next page »") }
            h.raw(" <span class=\"muted\">rows per page:</span> ")
            Layout.choices(&h, RunsTableState.sizes, current: state.size, label: { String($0) }) { n in
                .experiment(id, state.with { $0.size = n; $0.page = "" })
            }
            h.raw("</div>")
        }
        return UIResponse(status: problem == nil ? 200 : 400, body: html)
    }

    /// The columns to draw: the chosen ones, or else up to eight metrics and eight params that
    /// runs on this page have (so a page with 10,000 keys still renders only what fits).
    static func columns(_ state: RunsTableState, _ runs: [RunDetail]) -> [RunColumn] {
        if !state.columns.isEmpty { return state.columns.compactMap(RunColumn.init(field:)) }
        var metrics = Set<String>()
        var params = Set<String>()
        for d in runs {
            metrics.formUnion(d.data.latestMetrics.keys)
            params.formUnion(d.data.params.keys)
        }
        return metrics.sorted().prefix(8).map(RunColumn.metric) + params.sorted().prefix(8).map(RunColumn.param)
    }

    static func filterBar(_ h: inout HTML, _ id: ExperimentID, _ state: RunsTableState) {
        h.raw("<form class=\"bar\" method=\"get\"")
        h.attribute("action", Link.experiment(id).href)
        h.raw("><input class=\"filter\" type=\"text\" name=\"filter\" placeholder=\"metrics.accuracy &gt; 0.9 and (params.model = 'rf' or params.model = 'gb')\"")
        h.attribute("value", state.filter)
        h.raw("><input type=\"text\" name=\"order\" placeholder=\"metrics.accuracy DESC\"")
        h.attribute("value", state.order)
        h.raw("><select name=\"view\">")
        for v in RunLifecycle.allCases {
            h.raw("<option")
            h.attribute("value", v.rawValue)
            if v == state.view { h.raw(" selected") }
            h.raw(">")
            h.text(v.rawValue)
            h.raw("</option>")
        }
        h.raw("</select>")
        if state.size != RunsTableState.defaultSize {
            h.raw("<input type=\"hidden\" name=\"size\"")
            h.attribute("value", String(state.size))
            h.raw(">")
        }
        for c in state.columns {
            h.raw("<input type=\"hidden\" name=\"col\"")
            h.attribute("value", c)
            h.raw(">")
        }
        h.raw("<button>Apply</button>")
        if !state.filter.isEmpty || !state.order.isEmpty { h.link(.experiment(id, state.with { $0.filter = ""; $0.order = ""; $0.page = "" }), "clear") }
        h.raw("</form>")
    }

    /// At most this many keys are listed in the picker; a search (on the server, so it works
    /// without JavaScript) narrows the rest.
    static let pickerLimit = 300

    /// A `<details>` with a checkbox per key found on this page, narrowed by `keys=` (typing in
    /// the search box also filters the listed ones at once when JavaScript runs); submitting it
    /// keeps filter and sort.
    static func columnPicker(_ h: inout HTML, _ id: ExperimentID, _ state: RunsTableState, _ runs: [RunDetail], search: String) {
        var keys = Set<RunColumn>()
        for d in runs {
            for k in d.data.latestMetrics.keys { keys.insert(.metric(k)) }
            for k in d.data.params.keys { keys.insert(.param(k)) }
            for k in d.data.tags.keys where !k.hasPrefix("mlflow.") { keys.insert(.tag(k)) }
            for (k, _) in d.run.labels { keys.insert(.label(k)) }
        }
        let chosen = Set(state.columns.compactMap(RunColumn.init(field:)))
        for c in chosen { keys.insert(c) }
        guard !keys.isEmpty else { return }
        // Each key's field written once (10,000 keys sort in a blink; made per comparison they did not).
        let needle = search.lowercased()
        let matching = keys.map { (field: $0.field, column: $0) }
            .filter { needle.isEmpty || chosen.contains($0.column) || $0.field.lowercased().contains(needle) }
            .sorted { $0.field < $1.field }
        let listed = matching.prefix(Self.pickerLimit)
        h.raw("<details class=\"cols\"")
        if !search.isEmpty { h.raw(" open") }
        h.raw("><summary>Columns (")
        h.int(state.columns.isEmpty ? 0 : chosen.count)
        h.raw(" chosen of ")
        h.int(keys.count)
        h.raw(" keys on this page)</summary><form method=\"get\"")
        h.attribute("action", Link.experiment(id).href)
        h.raw("><input class=\"colsearch\" type=\"search\" name=\"keys\" placeholder=\"search keys\"")
        h.attribute("value", search)
        h.raw(">")
        for (name, value) in state.query where name != "col" && name != "page" && !value.isEmpty {
            h.raw("<input type=\"hidden\"")
            h.attribute("name", name)
            h.attribute("value", value)
            h.raw(">")
        }
        h.raw("<button>Show chosen columns</button>")
        if matching.count > listed.count {
            h.raw(" <span class=\"muted\">")
            h.int(matching.count - listed.count)
            h.raw(" more keys: search to narrow</span>")
        }
        h.raw("<div class=\"list\">")
        for (field, c) in listed {
            h.raw("<label><input type=\"checkbox\" name=\"col\"")
            h.attribute("value", field)
            if chosen.contains(c) { h.raw(" checked") }
            h.raw("> ")
            h.text(field)
            h.raw("</label>")
        }
        h.raw("</div></form></details>")
    }

    static func runsTable(_ h: inout HTML, _ id: ExperimentID, _ state: RunsTableState, _ columns: [RunColumn], _ runs: [RunDetail]) {
        guard !runs.isEmpty else {
            h.raw("<p class=\"muted\">No runs match.</p>")
            return
        }
        // Children directly under their parent when both are on the page.
        let onPage = Set(runs.map(\.run.id))
        var children: [RunID: [RunDetail]] = [:]
        var top: [RunDetail] = []
        for d in runs {
            if let p = d.run.parentID, onPage.contains(p) { children[p, default: []].append(d) } else { top.append(d) }
        }
        // The table sits inside the form that holds its state once: a header's button submits a
        // field to sort by, a cell's a clause to filter by (not a whole URL each). The compare
        // checkboxes belong to another form by their `form` attribute.
        h.raw("<form id=\"c\" method=\"get\" action=\"/compare\"></form><p class=\"muted\">Click a header to sort, a param, tag or label to filter by it.</p><form id=\"t\" method=\"get\"")
        h.attribute("action", Link.experiment(id).href)
        h.raw(">")
        for (name, value) in state.query where name != "page" && !value.isEmpty {
            h.raw("<input type=\"hidden\"")
            h.attribute("name", name)
            h.attribute("value", value)
            h.raw(">")
        }
        // Right-aligned number columns, by position, in one rule instead of a class on each cell.
        let numeric = columns.enumerated().compactMap { i, c -> Int? in
            if case .metric = c { return i + 6 }
            return nil
        }
        h.raw("<style>table.runs td:nth-child(5)")
        for n in numeric {
            h.raw(",table.runs td:nth-child(")
            h.int(n)
            h.raw(")")
        }
        h.raw("{text-align:right}</style><div class=\"scroll\"><table class=\"runs\"><thead><tr><th></th>")
        func header(_ label: String, _ field: String) {
            h.raw("<th><button name=\"sort\"")
            h.attribute("value", field)
            h.raw(">")
            h.text(label)
            h.raw("</button>")
            if let d = state.direction(of: field) { h.raw(d) }
            h.raw("</th>")
        }
        header("Run", "attributes.run_name")
        header("Status", "attributes.status")
        header("Started", "attributes.start_time")
        h.raw("<th>Duration</th>")
        for c in columns { header(c.field, c.field) }
        h.raw("</tr></thead><tbody>")
        func row(_ d: RunDetail, child: Bool) {
            h.raw(child ? "<tr class=\"child\"><td>" : "<tr><td>")
            h.raw("<input type=\"checkbox\" form=\"c\" name=\"runs\"")
            h.attribute("value", d.run.id.rawValue)
            h.raw("></td><td>")
            h.link(.run(d.run.id), d.run.name.isEmpty ? d.run.id.rawValue : d.run.name)
            if d.run.deletedAt != nil { h.raw(" <span class=\"badge\">deleted</span>") }
            h.raw("</td><td>")
            Layout.badge(&h, d.run.status.rawValue)
            h.raw("</td><td>")
            h.time(d.run.startTime)
            h.raw("</td><td>")
            if let end = d.run.endTime { h.text(Format.duration(milliseconds: end.millisecondsSince1970 - d.run.startTime.millisecondsSince1970)) }
            h.raw("</td>")
            for c in columns {
                h.raw("<td>")
                if let v = c.value(in: d) {
                    if let clause = c.clause(for: d) {
                        h.raw("<button name=\"n\"")
                        h.attribute("value", clause)
                        h.raw(">")
                        h.text(v.count > 60 ? String(v.prefix(60)) + "…" : v)
                        h.raw("</button>")
                    } else {
                        h.text(v)
                    }
                }
                h.raw("</td>")
            }
            h.raw("</tr>")
        }
        for d in top {
            row(d, child: false)
            for c in children[d.run.id] ?? [] { row(c, child: true) }
        }
        h.raw("</tbody></table></div></form><p><button class=\"compare\" form=\"c\">Compare selected runs</button></p>")
    }
}
