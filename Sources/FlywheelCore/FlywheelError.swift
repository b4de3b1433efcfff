/// The one error type Flywheel's libraries throw.
///
/// `message` is safe to show a client: it never carries secrets or SQL. Backends translate their
/// own errors at their boundary (a UNIQUE violation becomes ``Code/alreadyExists``) and keep the
/// original in `underlying` for logs.
public struct FlywheelError: Error, Sendable, CustomStringConvertible {
    /// What kind of fault this is; an extensible set, mapped to HTTP statuses in one place.
    public struct Code: Hashable, Sendable, CustomStringConvertible, Codable {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The caller named something that does not exist.
        public static let notFound = Code("not_found")
        /// The caller tried to create something whose name or key is taken.
        public static let alreadyExists = Code("already_exists")
        /// The caller's input is malformed or out of range.
        public static let invalidArgument = Code("invalid_argument")
        /// The request cannot be read at all (a body that is not JSON); a 400 like invalidArgument,
        /// told apart for protocols that tell it apart (MLflow's `BAD_REQUEST`).
        public static let malformed = Code("malformed")
        /// The request is well formed but contradicts recorded state (a param rewritten).
        public static let conflict = Code("conflict")
        /// The system is not in a state that allows the operation.
        public static let failedPrecondition = Code("failed_precondition")
        /// A feature that this build or configuration does not offer.
        public static let unsupported = Code("unsupported")
        /// A backend could not be reached or is busy; trying again may help.
        public static let unavailable = Code("unavailable")
        /// Flywheel's own fault.
        public static let `internal` = Code("internal")

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(rawValue)
        }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }

    /// What to show for any error: a FlywheelError's message, else the error's own description.
    public static func message(of error: any Error) -> String {
        (error as? FlywheelError)?.message ?? "\(error)"
    }

    public static func notFound(_ message: String) -> FlywheelError { .init(.notFound, message) }
    public static func alreadyExists(_ message: String) -> FlywheelError { .init(.alreadyExists, message) }
    public static func invalidArgument(_ message: String) -> FlywheelError { .init(.invalidArgument, message) }
    public static func conflict(_ message: String) -> FlywheelError { .init(.conflict, message) }
    public static func failedPrecondition(_ message: String) -> FlywheelError { .init(.failedPrecondition, message) }
    public static func unsupported(_ message: String) -> FlywheelError { .init(.unsupported, message) }
    public static func `internal`(_ message: String, underlying: (any Error & Sendable)? = nil) -> FlywheelError {
        .init(.internal, message, underlying: underlying)
    }
}
