import FlywheelCore
import Foundation

/// Evaluates references and expressions against a run's params and its finished steps' outputs.
struct ValueResolver: Sendable {
    let params: [String: JSONValue]
    let outputs: [String: [String: PipelineValue]]
    let blobs: any BlobStore
    let pipeline: String
    let runID: PipelineRunID

    func resolve(reference r: [String], item: PipelineValue?) async throws -> PipelineValue {
        switch r.first {
        case "params":
            guard r.count >= 2, let v = params[r[1]] else { throw FlywheelError.invalidArgument("unknown param '\(r.dropFirst().joined(separator: "."))'") }
            return try await descend(.value(v), into: Array(r.dropFirst(2)), what: r.joined(separator: "."))
        case "steps":
            guard r.count >= 4, let step = outputs[r[1]] else {
                throw FlywheelError.invalidArgument("step '\(r.count > 1 ? r[1] : "")' has not produced outputs")
            }
            guard let v = step[r[3]] else { throw FlywheelError.invalidArgument("step '\(r[1])' has no output '\(r[3])'") }
            return try await descend(v, into: Array(r.dropFirst(4)), what: r.joined(separator: "."))
        case "item":
            guard let item else { throw FlywheelError.invalidArgument("'item' is only defined in a for_each step") }
            return try await descend(item, into: Array(r.dropFirst()), what: r.joined(separator: "."))
        case "pipeline":
            if r.count == 2, r[1] == "name" { return .value(.string(pipeline)) }
            if r.count == 2, r[1] == "run_id" { return .value(.string(runID.rawValue)) }
            throw FlywheelError.invalidArgument("unknown reference '\(r.joined(separator: "."))'")
        default:
            throw FlywheelError.invalidArgument("unknown reference '\(r.joined(separator: "."))'")
        }
    }

    /// Follows `.field` / `[i]` segments into a value; a metrics (JSON) blob is read to do so.
    private func descend(_ v: PipelineValue, into path: [String], what: String) async throws -> PipelineValue {
        guard !path.isEmpty else { return v }
        var current: JSONValue
        switch v {
        case .value(let j): current = j
        case .artifact(_, let d):
            guard let j = try? JSONDecoder().decode(JSONValue.self, from: try await blobs.data(d)) else {
                throw FlywheelError.invalidArgument("'\(what)': the output is not a JSON file, so it has no fields")
            }
            current = j
        case .list(let items):
            guard let i = Int(path[0]), items.indices.contains(i) else {
                throw FlywheelError.invalidArgument("'\(what)': index '\(path[0])' is not in the list of \(items.count)")
            }
            return try await descend(items[i], into: Array(path.dropFirst()), what: what)
        }
        for seg in path {
            switch current {
            case .object(let o):
                guard let next = o[seg] else {
                    throw FlywheelError.invalidArgument("'\(what)': no field '\(seg)'; fields: \(o.keys.sorted().joined(separator: ", "))")
                }
                current = next
            case .array(let a):
                guard let i = Int(seg), a.indices.contains(i) else { throw FlywheelError.invalidArgument("'\(what)': no index '\(seg)'") }
                current = a[i]
            default:
                throw FlywheelError.invalidArgument("'\(what)': '\(seg)' reaches into a value that has no fields")
            }
        }
        return .value(current)
    }

    func evaluate(_ e: Expression, item: PipelineValue?) async throws -> PipelineValue {
        switch e {
        case .literal(let j): return .value(j)
        case .reference(let r): return try await resolve(reference: r, item: item)
        case .not(let x): return .value(.bool(!(try await evaluate(x, item: item).isTruthy)))
        case .and(let a, let b):
            guard try await evaluate(a, item: item).isTruthy else { return .value(.bool(false)) }
            return .value(.bool(try await evaluate(b, item: item).isTruthy))
        case .or(let a, let b):
            if try await evaluate(a, item: item).isTruthy { return .value(.bool(true)) }
            return .value(.bool(try await evaluate(b, item: item).isTruthy))
        case .compare(let op, let a, let b):
            return .value(.bool(PipelineValue.compare(op, try await evaluate(a, item: item), try await evaluate(b, item: item))))
        }
    }

    /// A template's value: a sole `${{ }}` keeps its type; anything else is text.
    func evaluate(_ t: Template, item: PipelineValue?) async throws -> PipelineValue {
        if let e = t.soleExpression { return try await evaluate(e, item: item) }
        var s = ""
        for part in t.parts {
            switch part {
            case .text(let x): s += x
            case .expression(let e): s += try await evaluate(e, item: item).text
            }
        }
        return .value(.string(s))
    }

    /// A `with:` value, resolved: maps and lists of plain values become JSON.
    func resolve(_ v: SpecValue, item: PipelineValue?) async throws -> PipelineValue {
        switch v {
        case .scalar(let j): return .value(j)
        case .template(let t): return try await evaluate(t, item: item)
        case .list(let items):
            var out: [PipelineValue] = []
            for i in items { out.append(try await resolve(i, item: item)) }
            if out.allSatisfy({ $0.json != nil }) { return .value(.array(out.compactMap(\.json))) }
            return .list(out)
        case .map(let m):
            var o: [String: JSONValue] = [:]
            for (k, x) in m {
                let r = try await resolve(x, item: item)
                // A blob inside a map is passed by digest (components read maps as settings).
                o[k] = r.json ?? r.recorded
            }
            return .value(.object(o))
        }
    }

    /// A command or environment value as text: blobs become paths of files under `in/`, and
    /// `${{ outputs.x }}` the path the command must write.
    func render(_ t: Template, item: PipelineValue?, renderer: PathRenderer) async throws -> String {
        var s = ""
        for part in t.parts {
            switch part {
            case .text(let x): s += x
            case .expression(.reference(let r)) where r.first == "outputs" && r.count == 2:
                s += PathRenderer.quote(renderer.outDir.appendingPathComponent(r[1]).path)
            case .expression(let e): s += try await renderer.text(try await evaluate(e, item: item))
            }
        }
        return s
    }
}

/// Puts blobs a command reads where it can open them.
struct PathRenderer: Sendable {
    let blobs: any BlobStore
    let inDir: URL
    let outDir: URL

    func text(_ v: PipelineValue) async throws -> String {
        switch v {
        case .value(let j): return PipelineValue.text(j)
        case .artifact(let t, let d):
            let ext = ["dataset": ".csv", "metrics": ".json", "model": ".fwm"][t.rawValue] ?? ""
            let url = inDir.appendingPathComponent("\(d.hex.prefix(16))\(ext)")
            if !FileManager.default.fileExists(atPath: url.path) { try await blobs.export(d, to: url) }
            return Self.quote(url.path)
        case .list(let items):
            var parts: [String] = []
            for i in items { parts.append(try await text(i)) }
            return parts.joined(separator: " ")
        }
    }

    /// Single-quotes a path for the shell when it holds anything but safe characters.
    static func quote(_ s: String) -> String {
        if s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+=:,@".contains($0)) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
