import FlywheelCore
import FlywheelServing
import FlywheelYAML
import Foundation
import HTTPTypes
import Hummingbird

/// Reading a JSON request body within the size limit, with the content type checked.
enum JSONBody {
    /// `application/json`; also no content type, and `application/x-www-form-urlencoded` — what
    /// `curl -d` sends unless told otherwise — as long as the body is JSON. Anything else is 415.
    static func checkJSONContentType(_ request: Request) throws {
        guard let type = request.headers[.contentType] else { return }
        // The common cases without splitting strings (this runs on every request).
        if type == "application/json" || type == "application/x-www-form-urlencoded" { return }
        let base = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard base == "application/json" || base == "application/x-www-form-urlencoded" || base.hasSuffix("+json") || base.isEmpty else {
            throw FlywheelError(.unsupportedMediaType, "content type '\(type)' is not accepted: send JSON with Content-Type: application/json")
        }
    }

    static func json(_ request: inout Request, limit: Int) async throws -> Data {
        try checkJSONContentType(request)
        return Data(try await bytes(&request, limit: limit).readableBytesView)
    }

    /// The whole body, any content type; over `limit` bytes is a 413 naming the limit.
    static func bytes(_ request: inout Request, limit: Int, what: String = "the body") async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch let e as any HTTPResponseError where e.status == .contentTooLarge {
            throw FlywheelError(.payloadTooLarge, "\(what) is over the limit of \(limit) bytes")
        }
    }

    /// The body as UTF-8 text (a YAML spec), within `limit`.
    static func text(_ request: Request, limit: Int) async throws -> String {
        var request = request
        return String(decoding: try await bytes(&request, limit: limit).readableBytesView, as: UTF8.self)
    }

    /// A YAML spec from the body (within `limit`) and its text: a spec with problems is a 400
    /// listing them, and one whose name is not the URL's is a 400 saying so.
    static func spec<Spec>(
        _ request: Request, limit: Int, kind: String, name: String,
        parse: (String) -> (spec: Spec?, diagnostics: [Diagnostic]), nameOf: (Spec) -> String
    ) async throws -> (spec: Spec, text: String) {
        let text = try await self.text(request, limit: limit)
        let (spec, diagnostics) = parse(text)
        guard let spec else {
            throw FlywheelError.invalidArgument("the \(kind) is not valid: " + diagnostics.map(\.description).joined(separator: "; "))
        }
        guard nameOf(spec) == name else {
            throw FlywheelError.invalidArgument("the body names \(kind) '\(nameOf(spec))' but the URL names '\(name)'")
        }
        return (spec, text)
    }

    /// A request ID: the caller's `x-request-id` when it is a sane token, else a fresh one.
    static func requestID(_ request: Request) -> String {
        if let given = request.headers[requestIDHeader], !given.isEmpty, given.count <= 128,
           given.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) {
            return given
        }
        var g = SystemRandomNumberGenerator()
        let hi = g.next() as UInt64, lo = g.next() as UInt64
        return String(hi, radix: 16).leftPadded(16) + String(lo, radix: 16).leftPadded(16)
    }

    static let requestIDHeader = HTTPField.Name("x-request-id")!  // invariant: a valid token
    static let versionHeader = HTTPField.Name("x-flywheel-version")!  // invariant: a valid token
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
