// The bare route: `GET /health/live` answering the worker's bytes (`{"status":"ok"}`,
// Content-Type application/json) and nothing else. No middleware, no logging per request.
//
//   bare-hummingbird [PORT]        (else $BARE_PORT, else 8081); binds 127.0.0.1
import Foundation
import Hummingbird
import Logging

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) : ProcessInfo.processInfo.environment["BARE_PORT"].flatMap { Int($0) }
guard let port, (0...65535).contains(port) else {
    FileHandle.standardError.write(Data("usage: bare-hummingbird PORT (or BARE_PORT)\n".utf8))
    exit(2)
}

var logger = Logger(label: "bare-hummingbird")
logger.logLevel = .warning

let router = Router()
router.get("/health/live") { _, _ -> Response in
    Response(
        status: .ok,
        headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(staticString: "{\"status\":\"ok\"}"))
    )
}
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
    logger: logger
)
try await app.runService()
