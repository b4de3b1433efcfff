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
        // The page's runs first, without values; then the keys they have (for the picker and
        // the default columns), cut by the database; then the values of the shown columns only.
        query.only = RunFields()
        var page = RunPage(runs: [], nextPageToken: nil)
        if problem == nil {
            do {
                page = try await store.searchRuns(query)
            } catch let e as FlywheelError where e.code == .invalidArgument {
                problem = e.message
            }
        }
        let ids = page.runs.map(\.run.id)
        let search = (r.value("keys") ?? "").trimmingCharacters(in: .whitespaces)
        // Every key of the page is listed only when the picker is opened (`pick=1`, a key search,
        // or the fragment its script fetches): a page whose runs have 10,000 keys between them
        // costs what one with 20 does until someone asks for the list.
        let picking = r.value("pick") == "1" || !search.isEmpty || r.value("fragment") == "cols"
        var keys: RunKeys?
        if picking {
            keys = ids.isEmpty ? RunKeys() : try await store.runKeys(ids: ids, containing: search.isEmpty ? nil : search, limit: Self.pickerLimit)
        }
        let labels = page.runs.flatMap { $0.run.labels.map(\.0) }
        if r.value("fragment") == "cols" {
            var h = HTML()
            Self.pickerBody(&h, id, state, keys ?? RunKeys(), labels: labels, search: search)
            return UIResponse(body: h.output)
        }
        var columns = state.columns.compactMap(RunColumn.init(field:))
        if columns.isEmpty, !ids.isEmpty {
            let lead = try await store.runKeys(ids: Array(ids.prefix(Self.defaultColumnRuns)), containing: nil, limit: Self.defaultColumns)
            columns = lead.keys.metrics.map(RunColumn.metric) + lead.keys.params.map(RunColumn.param)
        }
        var wanted = RunFields()
        for c in columns {
            switch c {
            case .metric(let k): wanted.metrics.append(k)
            case .param(let k): wanted.params.append(k)
            case .tag(let k): wanted.tags.append(k)
            case .label: break
            }
        }
        if !wanted.isEmpty {
            let data = try await store.runData(ids: ids, only: wanted)
            page.runs = page.runs.map { RunDetail(run: $0.run, data: data[$0.run.id] ?? RunData()) }
        }
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
            if !ids.isEmpty || !search.isEmpty { Self.columnPicker(&h, id, state, keys, labels: labels, search: search) }
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

    /// Without chosen columns the table shows the first eight metrics and eight params (by name)
    /// of the page's first ten runs, so a page with 10,000 keys still renders only what fits.
    static let defaultColumns = 8
    static let defaultColumnRuns = 10

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

    /// A `<details>` that lists the page's keys with a checkbox each. Closed, it holds a link that
    /// opens the page with the list (`pick=1`), which the script replaces by fetching the list
    /// when the details open; open (after `pick=1` or a key search), it holds the list.
    static func columnPicker(_ h: inout HTML, _ id: ExperimentID, _ state: RunsTableState, _ keys: RunKeys?, labels: [String], search: String) {
        let chosen = state.columns.count
        h.raw("<details class=\"cols\"")
        if keys != nil {
            h.raw(" open")
        } else {
            h.attribute("data-load", Link(path: ["experiments", id.rawValue], query: state.query + [("fragment", "cols")]).href)
        }
        h.raw("><summary>Columns (")
        h.int(chosen)
        h.raw(" chosen)</summary><div class=\"picker\">")
        if let keys {
            pickerBody(&h, id, state, keys, labels: labels, search: search)
        } else {
            h.link(Link(path: ["experiments", id.rawValue], query: state.query + [("pick", "1")]), "list the keys of the runs on this page")
        }
        h.raw("</div></details>")
    }

    /// The picker's form: a key search (on the server, so it works without JavaScript; typing
    /// also filters the listed keys at once when the script runs), a checkbox per key (at most
    /// `pickerLimit`, chosen ones always), and the table's other state kept in hidden fields.
    static func pickerBody(_ h: inout HTML, _ id: ExperimentID, _ state: RunsTableState, _ found: RunKeys, labels: [String], search: String) {
        // The store cut each kind at the limit and counted the rest; labels come with the runs.
        let needle = RunKeys.fold(search)
        var keys = Set<RunColumn>()
        for k in found.keys.metrics { keys.insert(.metric(k)) }
        for k in found.keys.params { keys.insert(.param(k)) }
        for k in found.keys.tags where !k.hasPrefix("mlflow.") { keys.insert(.tag(k)) }
        let labelKeys = Set(labels).filter { needle.isEmpty || RunKeys.fold($0).contains(needle) }
        for k in labelKeys { keys.insert(.label(k)) }
        let chosen = Set(state.columns.compactMap(RunColumn.init(field:)))
        for c in chosen { keys.insert(c) }
        // MLflow's own tags (`mlflow.*`) are not offered; those the store listed are not counted.
        let hidden = found.keys.tags.filter { $0.hasPrefix("mlflow.") }.count
        let total = found.metricCount + found.paramCount + found.tagCount - hidden + labelKeys.count
        // Each key's field written once, then sorted; chosen columns always listed.
        let listed = keys.map { (field: $0.field, column: $0) }.sorted { $0.field < $1.field }.prefix(Self.pickerLimit)
        h.raw("<form method=\"get\"")
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
        h.raw("<button>Show chosen columns</button> <span class=\"muted\">")
        h.int(total)
        h.raw(search.isEmpty ? " keys on this page" : " matching keys on this page")
        if total > listed.count {
            h.raw("; ")
            h.int(total - listed.count)
            h.raw(" more: search to narrow")
        }
        h.raw("</span><div class=\"list\">")
        for (field, c) in listed {
            h.raw("<label><input type=\"checkbox\" name=\"col\"")
            h.attribute("value", field)
            if chosen.contains(c) { h.raw(" checked") }
            h.raw("> ")
            h.text(field)
            h.raw("</label>")
        }
        h.raw("</div></form>")
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
