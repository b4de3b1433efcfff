import ArgumentParser
import FlywheelCore
import Foundation

/// `flywheel ui`: where this workspace's web UI is, when a server is serving it.
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Print (or open) the web UI's URL for this workspace.",
        discussion: prose("""
            The UI is served by `flywheel server` at its root: experiments and their runs table,
            runs with charts, compare, models, pipelines, deployments, monitors, lineage. This
            prints the URL of the server serving this workspace now; with none running it says how
            to start one. --open also hands the URL to the desktop's browser (xdg-open or open).
            """))
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Open the URL in the desktop's browser too.") var open = false

    struct Answer: Encodable {
        var url: String
        var workspace: String
    }

    func run() throws {
        let ws = try global.open()
        guard let url = ws.servingURL() else {
            throw FlywheelError.failedPrecondition(
                "no server is serving the workspace \(ws.root.path): start one with `flywheel server` (the UI is at its root, http://127.0.0.1:8080/ by default)")
        }
        let ui = url.hasSuffix("/") ? url : url + "/"
        if output.json {
            try Output.json(Answer(url: ui, workspace: ws.root.path))
        } else {
            Output.line(ui)
        }
        if open {
            let opener = ["/usr/bin/xdg-open", "/usr/bin/open"].first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let opener else { throw FlywheelError.unsupported("no xdg-open or open here to start a browser: open \(ui) yourself") }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: opener)
            p.arguments = [ui]
            try p.run()
        }
    }
}
