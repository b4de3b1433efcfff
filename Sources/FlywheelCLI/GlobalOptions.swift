import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

/// Flags every workspace command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The workspace folder (default: found upwards from here; or FLYWHEEL_WORKSPACE).", valueName: "path"))
    var workspace: String?

    /// Opens the workspace this invocation names. The only place the CLI reads FLYWHEEL_WORKSPACE.
    func open() throws -> Workspace {
        let env = ProcessInfo.processInfo.environment
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let root = try Workspace.locate(explicit: workspace ?? env["FLYWHEEL_WORKSPACE"], from: cwd)
        return try Workspace.open(root)
    }

    /// Who is acting, for registry history: FLYWHEEL_ACTOR, else the login name.
    static func actor() -> String {
        let env = ProcessInfo.processInfo.environment
        return env["FLYWHEEL_ACTOR"] ?? env["USER"] ?? env["LOGNAME"] ?? "unknown"
    }
}

/// `--json` for commands that print records.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts instead of a table.")
    var json = false
}

/// Parses `key=value` arguments, naming the flag on error.
func parsePairs(_ pairs: [String], flag: String) throws -> [(String, String)] {
    try pairs.map { pair in
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw ValidationError("\(flag) '\(pair)' is not valid: expected KEY=VALUE")
        }
        return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
    }
}

func parseDictionary(_ pairs: [String], flag: String) throws -> [String: String] {
    var out: [String: String] = [:]
    for (k, v) in try parsePairs(pairs, flag: flag) {
        if let old = out[k], old != v {
            throw ValidationError("\(flag) '\(k)' is given twice with different values ('\(old)' and '\(v)')")
        }
        out[k] = v
    }
    return out
}

func parseLabels(_ pairs: [String]) throws -> Labels {
    try Labels(validating: parseDictionary(pairs, flag: "--label"))
}

/// Parses a run ID argument, explaining the expected shape.
func parseRunID(_ text: String) throws -> RunID {
    guard RunID.isWellFormed(text) else {
        throw ValidationError("run ID '\(text)' is not valid: expected 32 lowercase hex digits as 'flywheel runs create' prints")
    }
    return RunID(text)
}
