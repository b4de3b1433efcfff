import FlywheelCore
import Foundation

/// The top-level areas in the navigation bar.
enum Section: String, CaseIterable {
    case experiments, models, pipelines, deployments, monitors

    var title: StaticString {
        switch self {
        case .experiments: "Experiments"
        case .models: "Models"
        case .pipelines: "Pipelines"
        case .deployments: "Deployments"
        case .monitors: "Monitors"
        }
    }

    var link: Link {
        switch self {
        case .experiments: .home
        case .models: .models
        case .pipelines: .pipelines
        case .deployments: .deployments
        case .monitors: .monitors
        }
    }
}

/// The shell every page shares: head, navigation, theme switch, and the one stylesheet and script.
enum Layout {
    static func page(title: String, section: Section?, request: UIRequest, body: (inout HTML) -> Void) -> String {
        var h = HTML()
        h.raw("<!doctype html>\n<html lang=\"en\"")
        if request.theme != .auto { h.attribute("data-theme", request.theme.rawValue) }
        h.raw("><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        h.raw("<meta name=\"color-scheme\" content=\"")
        switch request.theme {
        case .auto: h.raw("light dark")
        case .light: h.raw("light")
        case .dark: h.raw("dark")
        }
        h.raw("\"><title>")
        h.text(title)
        h.raw(" · Flywheel</title><link rel=\"stylesheet\"")
        h.attribute("href", Link.stylesheet.href)
        h.raw("><link rel=\"icon\" href=\"data:,\"></head><body><header class=\"top\"><a class=\"brand\" href=\"/\">Flywheel</a><nav>")
        for s in Section.allCases {
            h.raw("<a")
            h.attribute("href", s.link.href)
            if s == section { h.raw(" aria-current=\"page\"") }
            h.raw(">")
            h.raw(s.title)
            h.raw("</a>")
        }
        h.raw("</nav><span class=\"theme\">Theme: ")
        // The way back rides in the link unless it is long (a compare of 500 runs): then the
        // switch goes back by the Referer the browser sends, and each link stays short.
        let back = request.target.utf8.count <= 512 ? request.target : ""
        choices(&h, Theme.allCases, current: request.theme, label: \.rawValue) { .theme($0, back: back) }
        h.raw("</span></header><main>")
        body(&h)
        h.raw("</main><script")
        h.attribute("src", Link.script.href)
        h.raw(" defer></script></body></html>\n")
        return h.output
    }

    /// One of several settings: the current one in bold, each other a link to the same page with it.
    static func choices<T: Equatable>(_ h: inout HTML, _ all: [T], current: T, label: (T) -> String, link: (T) -> Link) {
        for option in all {
            if option == current {
                h.raw("<b>")
                h.text(label(option))
                h.raw("</b> ")
            } else {
                h.link(link(option), label(option))
                h.raw(" ")
            }
        }
    }

    /// A table of `rows` with the header row `head`, or a muted "none" when there are none.
    static func table<T>(_ h: inout HTML, _ rows: [T], head: StaticString, row: (inout HTML, T) -> Void) {
        guard !rows.isEmpty else {
            h.raw("<p class=\"muted\">none</p>")
            return
        }
        h.raw("<table><thead><tr>")
        h.raw(head)
        h.raw("</tr></thead><tbody>")
        for r in rows { row(&h, r) }
        h.raw("</tbody></table>")
    }

    /// `<span class="badge finished">finished</span>`
    static func badge(_ h: inout HTML, _ status: String) {
        h.raw("<span class=\"badge ")
        h.text(status)
        h.raw("\">")
        h.text(status)
        h.raw("</span>")
    }

    /// A two-column key/value table, keys sorted; empty gives a muted "none".
    static func keyValues(_ h: inout HTML, _ pairs: [(String, String)], empty: StaticString = "none") {
        guard !pairs.isEmpty else {
            h.raw("<p class=\"muted\">")
            h.raw(empty)
            h.raw("</p>")
            return
        }
        h.raw("<table class=\"kv\"><tbody>")
        for (k, v) in pairs {
            h.raw("<tr><th>")
            h.text(k)
            h.raw("</th><td>")
            h.truncated(v)
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
    }
}
