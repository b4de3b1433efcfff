import FlywheelCore
import FlywheelServing
import Foundation

/// A GET the UI answers: the path's segments (percent-decoded), the query's pairs in order, and
/// the theme the browser asked for with its cookie.
public struct UIRequest: Sendable {
    public var segments: [String]
    public var query: [(String, String)]
    public var theme: Theme
    /// The path and query as the browser sent them, for links back here (theme switch).
    public var target: String
    /// The page the browser came from (the theme switch's way back when its link has none).
    public var referer: String?

    public init(segments: [String], query: [(String, String)] = [], theme: Theme = .auto, target: String? = nil) {
        self.segments = segments
        self.query = query
        self.theme = theme
        self.target = target ?? ("/" + segments.joined(separator: "/"))
    }

    /// Parses `/experiments/1?filter=x` (a path with its query, percent-encoded).
    public init(target: String, cookie: String? = nil, referer: String? = nil) {
        self.referer = referer
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? "/"
        segments = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        query = parts.count > 1 ? UIRequest.parseQuery(String(parts[1])) : []
        theme = Theme(cookie: cookie)
        self.target = target
    }

    public static func parseQuery(_ q: String) -> [(String, String)] {
        q.split(separator: "&").compactMap { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            guard let k = kv.first else { return nil }
            return (decode(k), kv.count > 1 ? decode(kv[1]) : "")
        }
    }

    /// The first value of a query parameter.
    public func value(_ name: String) -> String? {
        query.first { $0.0 == name }?.1
    }

    /// Every value of a repeated query parameter, in order.
    public func values(_ name: String) -> [String] {
        query.filter { $0.0 == name }.map(\.1)
    }
}

/// What the UI answers: a status, a content type, the body, and headers such as a cookie or a
/// redirect's location.
public struct UIResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)]

    init(status: Int = 200, contentType: String = "text/html; charset=utf-8", body: String, headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
        self.headers = headers
    }

    init(status: Int = 200, contentType: String, bytes: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        body = bytes
        self.headers = headers
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// The colour scheme a page is drawn in: the browser's preference unless the person chose one,
/// which a cookie keeps and the server renders, so nothing flashes on load.
public enum Theme: String, Sendable, CaseIterable {
    case auto, light, dark

    public static let cookieName = "flywheel_theme"

    public init(cookie: String?) {
        self = .auto
        guard let cookie else { return }
        for part in cookie.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == Theme.cookieName,
                let t = Theme(rawValue: kv[1].trimmingCharacters(in: .whitespaces))
            {
                self = t
            }
        }
    }
}

/// The web UI: every page is a function of the store's answer to one query, rendered on the
/// server into escaped HTML (see `HTML`). `respond` never throws: a missing id is a 404 page, a
/// bad filter a 400 page that names the fault, and a store failure a 500 page.
///
/// ```swift
/// let ui = WebUI(store: store, blobs: blobs)
/// let page = await ui.respond(to: UIRequest(target: "/experiments/1?order=metrics.acc%20DESC"))
/// ```
public struct WebUI: Sendable {
    let store: any MetadataStore
    let blobs: any BlobStore
    let clock: any WallClock
    /// This server's recent requests per deployment version (nil when the UI runs without serving).
    let traffic: TrafficHistory?

    public init(store: any MetadataStore, blobs: any BlobStore, clock: any WallClock = SystemWallClock(), traffic: TrafficHistory? = nil) {
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self.traffic = traffic
    }

    /// The path prefixes the UI owns; the server routes these (and `/`) here.
    public static let prefixes = ["experiments", "runs", "compare", "models", "pipelines", "deployments", "monitors", "lineage", "ui"]

    public func respond(to request: UIRequest) async -> UIResponse {
        do {
            return try await route(request)
        } catch let error as FlywheelError {
            let status =
                switch error.code {
                case .notFound: 404
                case .invalidArgument, .malformed: 400
                default: 500
                }
            return errorPage(request, status: status, message: error.message)
        } catch {
            return errorPage(request, status: 500, message: "\(error)")
        }
    }

    func route(_ r: UIRequest) async throws -> UIResponse {
        let s = r.segments
        switch s.first {
        case nil: return try await experimentsPage(r)
        case "experiments":
            if s.count == 1 { return try await experimentsPage(r) }
            if s.count == 2 { return try await runsTablePage(r, experiment: ExperimentID(rawValue: s[1])) }
        case "runs":
            if s.count == 2 { return try await runPage(r, id: RunID(rawValue: s[1])) }
            if s.count == 4, s[2] == "metrics" { return try await metricPage(r, run: RunID(rawValue: s[1]), key: s[3]) }
            if s.count >= 4, s[2] == "artifacts" {
                return try await artifactFile(run: RunID(rawValue: s[1]), path: s[3...].joined(separator: "/"))
            }
        case "compare" where s.count == 1: return try await comparePage(r)
        case "models":
            if s.count == 1 { return try await modelsPage(r) }
            if s.count == 2 { return try await modelPage(r, name: s[1]) }
        case "pipelines":
            if s.count == 1 { return try await pipelinesPage(r) }
            if s.count == 3, s[1] == "runs" { return try await pipelineRunPage(r, id: PipelineRunID(rawValue: s[2])) }
            if s.count >= 5, s[1] == "runs", s[3] == "steps" {
                return try await pipelineStepPage(r, id: PipelineRunID(rawValue: s[2]), step: s[4...].joined(separator: "/"))
            }
        case "deployments":
            if s.count == 1 { return try await deploymentsPage(r) }
            if s.count == 2 { return try await deploymentPage(r, name: s[1]) }
        case "monitors":
            if s.count == 1 { return try await monitorsPage(r) }
            if s.count == 2 { return try await monitorPage(r, name: s[1]) }
        case "lineage" where s.count == 1: return try await lineagePage(r)
        case "ui":
            if s.count == 2, s[1] == "theme" { return themeSwitch(r) }
            if s.count == 3, s[1] == "static" { return try Assets.file(named: s[2]) }
        default: break
        }
        throw FlywheelError.notFound("no page at \(r.target)")
    }

    func errorPage(_ r: UIRequest, status: Int, message: String) -> UIResponse {
        let title = status == 404 ? "Not found" : status == 400 ? "Bad request" : "Something went wrong"
        let html = Layout.page(title: title, section: nil, request: r) { h in
            h.raw("<h1>")
            h.text(title)
            h.raw("</h1><p class=\"error\">")
            h.text(message)
            h.raw("</p><p><a href=\"/\">Experiments</a> · <a href=\"/models\">Models</a></p>")
        }
        return UIResponse(status: status, body: html)
    }

    /// The path and query of a Referer (`http://host:port/x?y` → `/x?y`); the host is dropped, so
    /// the redirect can only stay on this server.
    static func localPath(_ referer: String) -> String? {
        guard let scheme = referer.range(of: "://") else { return referer.hasPrefix("/") ? referer : nil }
        let rest = referer[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...])
    }

    /// Sets the theme cookie and goes back where the person was (a path on this server only).
    func themeSwitch(_ r: UIRequest) -> UIResponse {
        let theme = r.value("set").flatMap(Theme.init(rawValue:)) ?? .auto
        var back = r.value("back").flatMap { $0.isEmpty ? nil : $0 } ?? r.referer.flatMap(Self.localPath) ?? "/"
        if !back.hasPrefix("/") || back.hasPrefix("//") || back.contains("\\") { back = "/" }
        return UIResponse(
            status: 303, body: "",
            headers: [
                ("Location", back),
                ("Set-Cookie", "\(Theme.cookieName)=\(theme.rawValue); Path=/; Max-Age=31536000; SameSite=Lax"),
            ])
    }
}
