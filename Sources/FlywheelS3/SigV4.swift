import Crypto
import FlywheelCore
import Foundation

/// AWS Signature Version 4 for S3 (and S3-compatible stores): the headers that sign a request,
/// and presigned URLs. Written from the published algorithm; tested byte for byte against
/// botocore's output (Tests/FlywheelS3Tests/Fixtures/sigv4_vectors.json).
///
/// ```swift
/// let creds = SigV4.Credentials(accessKey: "AK", secretKey: "SK")
/// let headers = SigV4.sign(method: "PUT", url: url, headers: [], payloadHash: Digest(of: body).hex,
///                          credentials: creds, region: "us-east-1", date: Date())
/// ```
public enum SigV4 {
    public struct Credentials: Sendable, Hashable {
        public var accessKey: String
        public var secretKey: String
        /// A temporary credential's session token (`x-amz-security-token`).
        public var sessionToken: String?

        public init(accessKey: String, secretKey: String, sessionToken: String? = nil) {
            self.accessKey = accessKey
            self.secretKey = secretKey
            self.sessionToken = sessionToken
        }
    }

    /// The payload hash of a body that is not hashed (streamed uploads over TLS, presigned URLs).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Headers never signed (a proxy or the client library may change them on the way).
    static let unsignedHeaders: Set<String> = ["authorization", "user-agent", "expect", "x-amzn-trace-id", "connection", "transfer-encoding"]

    /// The headers to add to the request: `X-Amz-Date`, `X-Amz-Content-SHA256`, the session token
    /// when there is one, and `Authorization`. `url`'s path and query must be percent-encoded as
    /// they will be sent (S3 signs the path as sent, without encoding it again). Every header in
    /// `headers` is signed, with `host` (from the URL) and the `x-amz-*` ones.
    public static func sign(
        method: String, url: URL, headers: [(String, String)], payloadHash: String, credentials: Credentials, region: String,
        service: String = "s3", date: Date
    ) -> [(String, String)] {
        let (amzDate, day) = stamps(date)
        var added: [(String, String)] = [("X-Amz-Date", amzDate), ("X-Amz-Content-SHA256", payloadHash)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        var signed: [String: String] = ["host": hostHeader(url)]
        for (name, value) in headers + added {
            let key = name.lowercased()
            guard !unsignedHeaders.contains(key) else { continue }
            let v = trimmed(value)
            signed[key] = signed[key].map { $0 + "," + v } ?? v
        }
        let names = signed.keys.sorted()
        let canonical = canonicalRequest(
            method: method, url: url, query: queryPairs(url), headers: names.map { ($0, signed[$0]!) }, payloadHash: payloadHash)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let signature = sign(canonical: canonical, amzDate: amzDate, scope: scope, day: day, credentials: credentials, region: region, service: service)
        added.append((
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKey)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        ))
        return added
    }

    /// A URL anyone may use until it expires (`expires` seconds, at most 7 days): the signature
    /// travels in the query, only `host` is signed, the payload is `UNSIGNED-PAYLOAD`.
    public static func presign(
        method: String, url: URL, credentials: Credentials, region: String, service: String = "s3", date: Date, expires: Int
    ) -> URL {
        let (amzDate, day) = stamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var query = queryPairs(url)
        query += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(credentials.accessKey)/\(scope)"), ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(min(max(expires, 1), 604_800))), ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        let canonical = canonicalRequest(method: method, url: url, query: query, headers: [("host", hostHeader(url))], payloadHash: unsignedPayload)
        let signature = sign(canonical: canonical, amzDate: amzDate, scope: scope, day: day, credentials: credentials, region: region, service: service)
        var text = url.absoluteString
        if let q = text.firstIndex(of: "?") { text = String(text[..<q]) }
        // The signature goes last, after the signed pairs in their canonical order (as botocore writes it).
        return URL(string: text + "?" + canonicalQuery(query) + "&X-Amz-Signature=" + signature)!
    }

    // MARK: The algorithm

    static func canonicalRequest(method: String, url: URL, query: [(String, String)], headers: [(String, String)], payloadHash: String) -> String {
        let path = encodedPath(url)
        var lines = [method.uppercased(), path.isEmpty ? "/" : path, canonicalQuery(query)]
        lines += headers.map { "\($0.0):\($0.1)" }
        lines.append("")
        lines.append(headers.map(\.0).joined(separator: ";"))
        lines.append(payloadHash)
        return lines.joined(separator: "\n")
    }

    static func sign(canonical: String, amzDate: String, scope: String, day: String, credentials: Credentials, region: String, service: String) -> String {
        let toSign = ["AWS4-HMAC-SHA256", amzDate, scope, Digest(of: Data(canonical.utf8)).hex].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
    }

    /// `20260102T030405Z` and `20260102`, in UTC.
    static func stamps(_ date: Date) -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }

    /// The path as it will be sent (percent-encoded already; S3 signs it as is).
    static func encodedPath(_ url: URL) -> String {
        guard let c = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.path }
        return c.percentEncodedPath
    }

    /// The query's pairs, decoded (they are encoded again, canonically, when signed).
    static func queryPairs(_ url: URL) -> [(String, String)] {
        guard let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedQueryItems else { return [] }
        return items.map { ($0.name.removingPercentEncoding ?? $0.name, ($0.value ?? "").removingPercentEncoding ?? ($0.value ?? "")) }
    }

    /// Pairs encoded (RFC 3986 unreserved characters kept, everything else `%XX`) and sorted by
    /// name then value.
    static func canonicalQuery(_ pairs: [(String, String)]) -> String {
        pairs.map { (encode($0.0), encode($0.1)) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    public static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if unreserved.contains(b) {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// `host` or `host:port` when the port is not the scheme's default.
    static func hostHeader(_ url: URL) -> String {
        let host = url.host ?? ""
        guard let port = url.port else { return host }
        let scheme = url.scheme?.lowercased()
        if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) { return host }
        return "\(host):\(port)"
    }

    /// Leading and trailing spaces dropped, inner runs of spaces made one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
