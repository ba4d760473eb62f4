/// A request body that breaks the contract's rules; the message names the field.
public struct SessionInputError: Error, Sendable, Equatable {
    /// What is wrong, for a person.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }
}
