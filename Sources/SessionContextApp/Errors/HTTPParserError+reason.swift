import NIOHTTP1

extension HTTPParserError {
    /// What broke in a request's framing, in words, for the 400 that answers it (a broken body
    /// in ``ErrorMiddleware``, a broken head in ``PipelineResponder``).
    var reason: String {
        switch self {
        case .invalidChunkSize: "an invalid chunk size"
        case .invalidEOFState: "the connection ended before the whole body came"
        case .invalidContentLength: "an invalid Content-Length"
        case .headerOverflow: "a request line or headers larger than the limit (80 KiB each, 1,000 fields)"
        case .invalidMethod: "an invalid method"
        case .invalidURL: "an invalid request target"
        case .invalidVersion: "an invalid HTTP version"
        case .invalidHeaderToken: "an invalid character in a header"
        default: "\(self)"
        }
    }
}
