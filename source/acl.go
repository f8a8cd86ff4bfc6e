package source

// ACLLine is the Redis command an operator pastes to create a user that can do everything
// quotatop needs and nothing more: scan and read the meta and last-used keys, and have
// Redis tell the live monitor which meta keys changed (CLIENT TRACKING, redirected to a
// subscriber of __redis__:invalidate). The full account keys (tokens) stay out of reach.
func ACLLine(user, password, prefix string) string {
	return "ACL SETUSER " + user + " on >" + password + " resetkeys ~" + prefix + "meta:* ~" + prefix + "acc:last_used:* resetchannels -@all +scan +get +mget +type +ping +hello +auth +cluster|slots +cluster|shards +cluster|nodes +readonly +info +client|id +client|tracking +subscribe &__redis__:invalidate"
}
