import HeraldCore

/// The push device registry (docs/push.md): which devices each user has, and which the providers declared dead.
///
/// A token belongs to one user at a time (registering it for another user moves it). The store keeps each user's
/// count of active devices with their profile, in the same transaction, so planning reads it with the audience
/// snapshot (`UserProfile.pushDevices`) and a user without an active device is `no_contact`.
public protocol DeviceStore: Sendable {
    /// Registers (or re-registers) devices at `at`: a registration makes the device active again and moves it to
    /// the named user. Users not in the store are created, as events create them. Returns how many were stored.
    @discardableResult
    func registerDevices(_ devices: [DeviceRegistration], at: Int64) async throws -> Int
    /// Forgets the device with `token` (the app's logout, `DELETE /v1/devices/{token}`); false when unknown.
    @discardableResult
    func removeDevice(token: String) async throws -> Bool
    /// Marks the device with `token` inactive with `reason` at `at`, unless it was registered after `since`
    /// (APNs' 410 timestamp: a token registered after the provider last knew it dead is alive). False when
    /// nothing changed.
    @discardableResult
    func deactivateDevice(token: String, reason: String, since: Int64?, at: Int64) async throws -> Bool
    /// Every device of `userID`, active or not, the most recently registered first.
    func devices(userID: String) async throws -> [RegisteredDevice]
    /// The active devices of each of `users`, the most recently registered first, at most `limit` each; users
    /// without one are absent.
    func activeDevices(users: [String], limit: Int) async throws -> [String: [RegisteredDevice]]
}
