import HeraldCore

// The daemon arrives with its own issue; for now it only says so.
print("heraldd: the daemon is not built yet; use `herald` for validation and audience work")
