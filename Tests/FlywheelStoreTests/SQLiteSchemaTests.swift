import FlywheelCore
import FlywheelStore
import Foundation
import GRDB
import Testing

@Suite struct SQLiteSchemaTests {
    /// An older flywheel opening a workspace a newer one migrated refuses, naming both schemas,
    /// instead of running against tables it does not know.
    @Test func aNewerSchemaIsRefusedByName() async throws {
        let path = try TempDir.make().appendingPathComponent("flywheel.db").path
        let store = try SQLiteMetadataStore(path: path)
        _ = try await store.createExperiment(NewExperiment(name: "kept"), at: ts(1))
        let other = try DatabaseQueue(path: path)
        try await other.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')") }
        let refused = #expect(throws: FlywheelError.self) { try SQLiteMetadataStore(path: path) }
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.message.contains("'v99: from the future'") == true && refused?.message.contains("'v5: ") == true, "\(refused?.message ?? "")")
        // Nothing was changed: without the future migration it opens, data intact.
        try await other.write { db in try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v99%'") }
        #expect(try await SQLiteMetadataStore(path: path).experiment(named: "kept") != nil)
    }
}
