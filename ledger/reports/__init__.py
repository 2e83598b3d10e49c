"""Play reports from platforms: rows, their Merkle root, and the platform's EIP-712 signature."""
