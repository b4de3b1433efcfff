import Foundation
import Testing

/// Runs the real `flywheel` binary (built beside the test bundle) in a subprocess.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var ok: Bool { status == 0 }
        var line: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    }

    /// `flywheel` sits in the same build folder as the test executable.
    static let binary: URL = {
        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var dir = exe.deletingLastPathComponent()
        // On macOS the bundle nests the executable in Contents/MacOS.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("flywheel").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("flywheel")
    }()

    let cwd: URL
    var env: [String: String] = [:]

    init(cwd: URL, env: [String: String] = [:]) {
        self.cwd = cwd
        self.env = env
    }

    /// A fresh folder made into a workspace.
    static func workspace() throws -> CLI {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cli = CLI(cwd: dir)
        let r = try cli.run("init")
        guard r.ok else { throw CLIError(message: "init failed: \(r.stderr)") }
        return cli
    }

    struct CLIError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    @discardableResult
    func run(_ args: String..., stdin: Data? = nil) throws -> Result { try run(args, stdin: stdin) }

    func run(_ args: [String], stdin: Data? = nil) throws -> Result {
        let p = process(args)
        let tmp = FileManager.default.temporaryDirectory
        let outURL = tmp.appendingPathComponent("fw-out-\(UUID().uuidString)")
        let errURL = tmp.appendingPathComponent("fw-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        if let stdin {
            let inURL = tmp.appendingPathComponent("fw-in-\(UUID().uuidString)")
            try stdin.write(to: inURL)
            defer { try? FileManager.default.removeItem(at: inURL) }
            p.standardInput = try FileHandle(forReadingFrom: inURL)
            try p.run()
        } else {
            p.standardInput = FileHandle.nullDevice
            try p.run()
        }
        p.waitUntilExit()
        return Result(
            status: p.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// A configured but not started process, for tests that signal it.
    func process(_ args: [String]) -> Process {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        p.currentDirectoryURL = cwd
        var e = ProcessInfo.processInfo.environment
        e.removeValue(forKey: "FLYWHEEL_WORKSPACE")
        for (k, v) in env { e[k] = v }
        p.environment = e
        return p
    }

    func write(_ text: String, to name: String) throws -> URL {
        let u = cwd.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: u)
        return u
    }
}

/// Runs a Python script with a venv's interpreter (made by ./scripts/test.sh), returning status, stdout and stderr.
func runPython(_ interpreter: URL, _ args: [String], env: [String: String] = [:], venvHint: String) throws -> (Int32, String, String) {
    guard FileManager.default.isExecutableFile(atPath: interpreter.path) else {
        throw CLI.CLIError(message: "no \(interpreter.path): run ./scripts/test.sh, which makes the venv with \(venvHint)")
    }
    let run = try PythonRun.start(interpreter, args, env: env)
    run.process.waitUntilExit()
    defer {
        try? FileManager.default.removeItem(at: run.out)
        try? FileManager.default.removeItem(at: run.err)
    }
    return (
        run.process.terminationStatus, (try? String(contentsOf: run.out, encoding: .utf8)) ?? "",
        (try? String(contentsOf: run.err, encoding: .utf8)) ?? ""
    )
}

/// Runs a shell command for test setup (git), failing the test on error.
@discardableResult
func sh(_ command: String, in dir: URL) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    p.currentDirectoryURL = dir
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard p.terminationStatus == 0 else { throw CLI.CLIError(message: "\(command) failed: \(text)") }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}

extension Dictionary where Key == String, Value == Any {
    func dict(_ k: String) -> [String: Any] { self[k] as? [String: Any] ?? [:] }
}
