import FlywheelCore
import Foundation

extension RunEnvironment {
    /// Records where and how a run started: git state of `workingDirectory`, command line, host,
    /// OS, Swift version and user. Git facts are left nil outside a repository or without git.
    ///
    /// `user` is passed in: libraries never read the environment themselves.
    public static func capture(
        commandLine: [String], workingDirectory: URL, user: String?, flywheelVersion: String, seed: UInt64? = nil
    ) -> RunEnvironment {
        var env = RunEnvironment(
            commandLine: commandLine, workingDirectory: workingDirectory.path, host: ProcessInfo.processInfo.hostName,
            os: osDescription(), swiftVersion: swiftVersion, flywheelVersion: flywheelVersion, user: user, seed: seed)
        if let commit = git(["rev-parse", "HEAD"], in: workingDirectory) {
            env.gitCommit = commit
            env.gitDirty = git(["status", "--porcelain", "--untracked-files=no"], in: workingDirectory).map { !$0.isEmpty }
            env.gitBranch = git(["rev-parse", "--abbrev-ref", "HEAD"], in: workingDirectory)
        }
        return env
    }

    /// The Swift language version this build of Flywheel was compiled with.
    public static var swiftVersion: String {
        #if compiler(>=6.4)
            "6.4+"
        #elseif compiler(>=6.3)
            "6.3"
        #elseif compiler(>=6.2)
            "6.2"
        #elseif compiler(>=6.1)
            "6.1"
        #else
            "6.0"
        #endif
    }

    static func osDescription() -> String {
        #if os(Linux)
            if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
            {
                return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            return "Linux " + ProcessInfo.processInfo.operatingSystemVersionString
        #else
            return ProcessInfo.processInfo.operatingSystemVersionString
        #endif
    }

    /// Runs git with a short output, returning trimmed stdout, or nil on any failure.
    static func git(_ args: [String], in dir: URL) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", dir.path] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
