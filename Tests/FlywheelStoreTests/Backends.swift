import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

/// Every `MetadataStore` backend the conformance suite runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite

    var testDescription: String { rawValue }

    func make() throws -> any MetadataStore {
        switch self {
        case .memory: InMemoryMetadataStore()
        case .sqlite: try SQLiteMetadataStore(path: TempDir.make().appendingPathComponent("flywheel.db").path)
        }
    }
}

enum TempDir {
    static func make() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

func ts(_ ms: Int64) -> Timestamp { Timestamp(millisecondsSince1970: ms) }

/// Shorthand for building runs in tests.
func makeRun(_ store: any TrackingStore, exp: ExperimentID, name: String = "r", start: Int64 = 1000,
             labels: Labels = [:], parent: RunID? = nil, status: RunStatus = .running) async throws -> RunID {
    let id = RunID.generate()
    try await store.createRun(Run(id: id, experimentID: exp, name: name, status: status, startTime: ts(start),
                                  parentID: parent, labels: labels))
    return id
}

let who = Attribution(actor: "ana", reason: "testing")
