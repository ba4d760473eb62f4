/// Who makes a request, as the scripts need to know it.
public enum SessionCaller: Sendable, Equatable {
    /// A management client (client-credentials token with the manage scope).
    case management
    /// A storefront token: anonymous (nil) or a logged-in customer's. It may only touch a
    /// customer's session with that customer's token.
    case storefront(customerId: String?)

    /// The caller as the scripts read it.
    var scriptArgument: String {
        switch self {
        case .management: return "m"
        case .storefront(let customerId): return "s:" + (customerId ?? "")
        }
    }
}
