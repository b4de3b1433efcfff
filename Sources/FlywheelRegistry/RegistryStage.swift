import FlywheelCore

/// MLflow's model stages (deprecated there, still in much code), mapped onto Flywheel's aliases
/// and statuses, so a stage transition moves what Flywheel deployments follow:
///
/// | stage | in Flywheel |
/// |---|---|
/// | Production | the version the `production` alias points at |
/// | Staging | the version the `staging` alias points at |
/// | Archived | a version whose status is `archived` (and holds neither alias) |
/// | None | any other version |
///
/// A stage holds one version at a time, as an alias does: moving version 2 to Production moves
/// the alias off version 1, which shows as None — or Archived when the transition asks to
/// archive existing versions.
public enum RegistryStage: String, Hashable, Sendable, CaseIterable {
    case none = "None"
    case staging = "Staging"
    case production = "Production"
    case archived = "Archived"

    /// A stage by name, any case (`production`, `Production`).
    public init(parsing text: String) throws {
        guard let s = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            throw FlywheelError.invalidArgument(
                "Invalid Model Version stage: \(text). Value must be one of None, Staging, Production, Archived.")
        }
        self = s
    }

    public var name: String { rawValue }

    /// The alias that holds this stage, for Staging and Production.
    public var alias: String? {
        switch self {
        case .staging: "staging"
        case .production: "production"
        case .none, .archived: nil
        }
    }

    /// The stage a version is in, given its model's aliases.
    public static func of(_ v: ModelVersion, aliases: [String: Int]) -> RegistryStage {
        if aliases["production"] == v.version { return .production }
        if aliases["staging"] == v.version { return .staging }
        return v.status == .archived ? .archived : .none
    }

    /// The newest version in each of `stages` that has one, in the order of `stages`.
    public static func latest(_ versions: [ModelVersion], aliases: [String: Int], stages: [RegistryStage]) -> [ModelVersion] {
        var newest: [RegistryStage: ModelVersion] = [:]
        for v in versions {
            let s = of(v, aliases: aliases)
            if let cur = newest[s], cur.version > v.version { continue }
            newest[s] = v
        }
        var seen: Set<RegistryStage> = []
        return stages.compactMap { s in seen.insert(s).inserted ? newest[s] : nil }
    }

    /// Moves `version` into this stage: its aliases and status change as the table above says,
    /// each change recorded in the registry's history with `who`.
    public func transition(registry: ModelRegistry, model: String, version: Int, archiveExisting: Bool, by who: Attribution) async throws {
        if archiveExisting && alias == nil {
            throw FlywheelError.invalidArgument(
                "Model version transition cannot archive existing model versions because '\(name)' is not an Active stage. Valid stages are Staging, Production.")
        }
        let v = try await registry.version(model, version)
        let aliases = try await registry.store.aliases(model: model)
        // A version is in one stage: leave the other stage alias it holds.
        for stage in [RegistryStage.staging, .production] where stage != self {
            if let a = stage.alias, aliases[a] == version { _ = try await registry.deleteAlias(a, model: model, by: who) }
        }
        switch self {
        case .none:
            if v.status == .archived { try await registry.setStatus(.ready, model: model, version: version, by: who) }
        case .archived:
            if v.status != .archived { try await registry.setStatus(.archived, model: model, version: version, by: who) }
        case .staging, .production:
            guard let a = alias else { return }
            if v.status == .archived { try await registry.setStatus(.ready, model: model, version: version, by: who) }
            let holder = aliases[a]
            if holder != version { _ = try await registry.setAlias(a, model: model, version: version, by: who) }
            if archiveExisting, let holder, holder != version {
                try await registry.setStatus(.archived, model: model, version: holder, by: who)
            }
        }
    }
}
