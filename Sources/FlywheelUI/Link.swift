import FlywheelCore
import Foundation

/// Every URL the UI writes is made here: path segments and query values percent-encoded once, in
/// one place, so a run named `a/b?c` or a metric key with spaces links where it should.
struct Link: Hashable, Sendable {
    let href: String

    init(path segments: [String], query: [(String, String)] = [], fragment: String? = nil) {
        var s = ""
        for seg in segments {
            s += "/"
            s += Link.encode(seg, keep: Link.pathSafe)
        }
        if s.isEmpty { s = "/" }
        let q = query.filter { !$0.1.isEmpty }
        if !q.isEmpty {
            s += "?"
            s += q.map { Link.encode($0.0, keep: Link.querySafe) + "=" + Link.encode($0.1, keep: Link.querySafe) }.joined(separator: "&")
        }
        if let fragment { s += "#" + Link.encode(fragment, keep: Link.pathSafe) }
        href = s
    }

    static let home = Link(path: [])
    static let models = Link(path: ["models"])
    static let pipelines = Link(path: ["pipelines"])
    static let deployments = Link(path: ["deployments"])
    static let monitors = Link(path: ["monitors"])
    static let stylesheet = Link(path: ["ui", "static", "flywheel-\(Assets.version).css"])
    static let script = Link(path: ["ui", "static", "flywheel-\(Assets.version).js"])

    static func experiment(_ id: ExperimentID, _ state: RunsTableState? = nil) -> Link {
        Link(path: ["experiments", id.rawValue], query: state?.query ?? [])
    }
    static func run(_ id: RunID) -> Link { Link(path: ["runs", id.rawValue]) }
    static func metric(_ run: RunID, _ key: String, _ chart: ChartOptions? = nil) -> Link {
        Link(path: ["runs", run.rawValue, "metrics", key], query: chart?.query ?? [])
    }
    static func metricData(_ run: RunID, _ key: String, format: String) -> Link {
        Link(path: ["runs", run.rawValue, "metrics", key], query: [("format", format)])
    }
    static func artifact(_ run: RunID, _ path: String) -> Link {
        Link(path: ["runs", run.rawValue, "artifacts"] + path.split(separator: "/").map(String.init))
    }
    static func model(_ name: String) -> Link { Link(path: ["models", name]) }
    static func modelVersion(_ name: String, _ version: Int) -> Link { Link(path: ["models", name], fragment: "v\(version)") }
    static func compare(_ runs: [RunID], _ extra: [(String, String)] = []) -> Link {
        Link(path: ["compare"], query: runs.map { ("runs", $0.rawValue) } + extra)
    }
    static func theme(_ theme: Theme, back: String) -> Link {
        Link(path: ["ui", "theme"], query: [("set", theme.rawValue), ("back", back)])
    }
    static func pipelineRun(_ id: PipelineRunID) -> Link { Link(path: ["pipelines", "runs", id.rawValue]) }
    /// A step's attempts and logs; `step` as recorded (`train[3]` for a `for_each` instance).
    static func pipelineStep(_ id: PipelineRunID, _ step: String, _ query: [(String, String)] = []) -> Link {
        Link(path: ["pipelines", "runs", id.rawValue, "steps", step], query: query)
    }
    static func deployment(_ name: String) -> Link { Link(path: ["deployments", name]) }
    static func monitor(_ name: String) -> Link { Link(path: ["monitors", name]) }
    static func lineage(_ ref: ResourceRef) -> Link { Link(path: ["lineage"], query: [("node", ref.description)]) }

    /// The page a lineage node is shown on, when there is one.
    static func node(_ ref: ResourceRef) -> Link? {
        switch ref.kind {
        case .run: return .run(RunID(rawValue: ref.id))
        case .modelVersion:
            guard let at = ref.id.lastIndex(of: "/") else { return nil }
            return .model(String(ref.id[..<at]))
        case .pipelineRun: return .pipelineRun(PipelineRunID(rawValue: ref.id))
        case .deployment: return .deployment(ref.id)
        default: return .lineage(ref)
        }
    }

    static let pathSafe: Set<UInt8> = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,;:@".utf8)
    static let querySafe: Set<UInt8> = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,;:@/?".utf8)

    static func encode(_ s: String, keep: Set<UInt8>) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in s.utf8 {
            if keep.contains(b) {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "%")))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 15)]))
            }
        }
        return out
    }
}
