import FlywheelCore

/// Walks lineage edges: where a model came from (datasets, runs) and what was made from a dataset.
public struct LineageService: Sendable {
    public let store: any MetadataStore
    public let registry: ModelRegistry

    public init(store: any MetadataStore, registry: ModelRegistry) {
        self.store = store
        self.registry = registry
    }

    /// Parses a user's reference: `run:<id>`, a bare run ID, `dataset:sha256:…`, `sha256:…`,
    /// `model:iris/3`, or a model URI (`models:/iris@production`), which is resolved to its version.
    public func resolve(_ text: String) async throws -> ResourceRef {
        if text.hasPrefix("models:/") || (text.contains("@") && !text.contains(":")) {
            let v = try await registry.resolve(text)
            return .modelVersion(v.modelName, v.version)
        }
        if text.hasPrefix("sha256:") { return .dataset(try Digest(parsing: text)) }
        if RunID.isWellFormed(text) { return .run(RunID(text)) }
        return try ResourceRef(parsing: text)
    }

    /// Edges reachable from `ref` in `direction`, breadth first, up to `depth` hops.
    public func walk(from ref: ResourceRef, direction: LineageDirection, depth: Int = 10) async throws -> [LineageEdge] {
        var seen: Set<ResourceRef> = [ref]
        var frontier = [ref]
        var out: [LineageEdge] = []
        var hops = 0
        while !frontier.isEmpty, hops < depth {
            var next: [ResourceRef] = []
            for node in frontier {
                for e in try await store.lineage(of: node, direction: direction) {
                    out.append(e)
                    let other = direction == .upstream ? e.source : e.target
                    if seen.insert(other).inserted { next.append(other) }
                }
            }
            frontier = next
            hops += 1
        }
        return out
    }
}
