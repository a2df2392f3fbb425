// Package natsbus joins trackers into a cluster over NATS: it implements
// tracker.Bus with core NATS subjects, nothing stored.
//
// Subjects, under tabswarm.CLUSTER:
//
//	relay.NODE        one per node: a signal for a peer of NODE (request/reply)
//	send.NODE         the same without waiting: only a refusal is sent back,
//	                  to the sender's refused.SENDER.SEQ
//	swarm.DIGEST.ask  holders and manifest of a swarm (scatter-gather)
//	swarm.DIGEST.note a newcomer to a swarm (publish)
//	all               statistics of every node (scatter-gather)
//
// A node subscribes to swarm.DIGEST.* only while it has members in that
// swarm, so questions and notices about a file reach just the nodes that
// care. Every announce stays in its node's memory; no replicated write is
// made per announce.
//
// Start either embeds a NATS server that routes to the other nodes
// (Options.ClusterListen, Routes) or connects to an existing deployment
// (Options.URL).
package natsbus
