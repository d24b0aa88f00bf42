"""The query processor's transaction: snapshot, write buffer, claims, commit."""
