import Foundation
import Testing

@testable import FlywheelS3

/// The S3 signer against botocore's own signatures of the same requests at the same instant
/// (scripts/make_sigv4_vectors.py wrote the fixture; no Python runs here).
@Suite struct SigV4Tests {
    struct Vectors: Decodable {
        var access_key: String
        var secret_key: String
        var cases: [Case]
    }

    struct Case: Decodable {
        var name: String
        var method: String
        var url: String
        var headers: [[String]]
        var payload_hash: String?
        var region: String
        var session_token: String?
        var canonical_request: String
        var authorization: String?
        var presigned_url: String?
        var expires: Int?
    }

    static let vectors: Vectors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sigv4_vectors.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    /// 2026-01-02 03:04:05 UTC, the generator's frozen clock.
    static let when = Date(timeIntervalSince1970: 1_767_323_045)

    @Test(arguments: vectors.cases.map(\.name))
    func matchesBotocore(_ name: String) throws {
        let v = Self.vectors
        let c = try #require(v.cases.first { $0.name == name })
        let creds = SigV4.Credentials(accessKey: v.access_key, secretKey: v.secret_key, sessionToken: c.session_token)
        let url = try #require(URL(string: c.url))
        if let expected = c.presigned_url {
            let signed = SigV4.presign(method: c.method, url: url, credentials: creds, region: c.region, date: Self.when, expires: c.expires ?? 0)
            #expect(signed.absoluteString == expected)
            return
        }
        let headers = c.headers.map { ($0[0], $0[1]) }
        let added = SigV4.sign(
            method: c.method, url: url, headers: headers, payloadHash: c.payload_hash ?? "", credentials: creds, region: c.region, date: Self.when)
        let authorization = added.first { $0.0 == "Authorization" }?.1
        #expect(authorization == c.authorization)
        #expect(added.first { $0.0 == "X-Amz-Date" }?.1 == "20260102T030405Z")
        #expect(added.contains { $0 == ("X-Amz-Content-SHA256", c.payload_hash ?? "") })
        #expect(added.contains { $0.0 == "X-Amz-Security-Token" } == (c.session_token != nil))
        // When the signature differs, the canonical request says where.
        if authorization != c.authorization {
            var signed: [String: String] = ["host": SigV4.hostHeader(url)]
            for (k, v) in headers + added where k != "Authorization" { signed[k.lowercased()] = SigV4.trimmed(v) }
            let canonical = SigV4.canonicalRequest(
                method: c.method, url: url, query: SigV4.queryPairs(url), headers: signed.keys.sorted().map { ($0, signed[$0]!) },
                payloadHash: c.payload_hash ?? "")
            #expect(canonical == c.canonical_request)
        }
    }

    @Test func aWrongSecretOrInstantChangesTheSignature() throws {
        let url = try #require(URL(string: "http://127.0.0.1:9000/b/k"))
        let base = SigV4.sign(method: "GET", url: url, headers: [], payloadHash: SigV4.unsignedPayload,
                              credentials: .init(accessKey: "a", secretKey: "s"), region: "us-east-1", date: Self.when)
        let otherSecret = SigV4.sign(method: "GET", url: url, headers: [], payloadHash: SigV4.unsignedPayload,
                                     credentials: .init(accessKey: "a", secretKey: "t"), region: "us-east-1", date: Self.when)
        let later = SigV4.sign(method: "GET", url: url, headers: [], payloadHash: SigV4.unsignedPayload,
                               credentials: .init(accessKey: "a", secretKey: "s"), region: "us-east-1", date: Self.when.addingTimeInterval(1))
        #expect(base.last!.1 != otherSecret.last!.1 && base.last!.1 != later.last!.1)
        #expect(SigV4.encode("a b/ü+~") == "a%20b%2F%C3%BC%2B~")
    }
}
