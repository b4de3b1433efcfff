import FlywheelCore
import FlywheelServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// The web UI as mounted by the server: pages at `/`, beside the APIs, never in their way.
@Suite struct UIRoutesTests {
    @Test func pagesAreServedBesideTheAPIs() async throws {
        let f = ServingFixture()
        try await f.register("iris", alias: "production")
        try await LiveServer.with(f) { _, client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "text/html; charset=utf-8")
                #expect(r.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                #expect(String(buffer: r.body).contains("<h1>Experiments</h1>"))
            }
            try await client.execute(uri: "/models", method: .get) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains(">iris</a>"))
            }
            try await client.execute(uri: "/models/iris", method: .get) { r in
                #expect(String(buffer: r.body).contains("production"))
            }
            // A missing id is the UI's 404 page, not a 500 and not JSON.
            try await client.execute(uri: "/runs/nope", method: .get) { r in
                #expect(r.status == .notFound)
                #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            // The APIs keep their own answers.
            try await client.execute(uri: "/api/2.0/mlflow/experiments/get?experiment_id=424242", method: .get) { r in
                #expect(r.status == .notFound)
                #expect(String(buffer: r.body).contains("RESOURCE_DOES_NOT_EXIST"))
            }
            try await client.execute(uri: "/api/v1/models", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType]?.hasPrefix("application/json") == true)
            }
            // The theme switch sets its cookie and redirects.
            try await client.execute(uri: "/ui/theme?set=dark&back=%2Fmodels", method: .get) { r in
                #expect(r.status == .ok)  // URLSession follows the 303 to /models
                #expect(String(buffer: r.body).contains("data-theme=\"dark\""))
            }
        }
    }
}
