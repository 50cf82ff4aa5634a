package model

import "time"

// The drill-downs: what the console shows when on-call opens one thing — a pod, its logs, a
// Deployment and its HPA, a Cassandra node, the metrics database, a traffic series — loaded
// on demand (ops.Inspector), not part of the live Snapshot.

// Ref names one thing to drill into.
type Ref struct {
	Kind      string `json:"kind"` // one of the Ref* kinds
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Group and API narrow a traffic drill-down; Container a log.
	Group     string `json:"group,omitempty"`
	API       string `json:"api,omitempty"`
	Container string `json:"container,omitempty"`
	// Previous asks for the previous container's log.
	Previous bool `json:"previous,omitempty"`
}

// Kinds of Ref.
const (
	RefPod        = "pod"
	RefLogs       = "logs" // Namespace, Name (the pod), Container
	RefDeployment = "deployment"
	RefHPA        = "hpa"
	RefCassandra  = "cassandra" // Name: the node's address
	RefMySQL      = "mysql"     // Name: the database
	RefTraffic    = "traffic"   // Group, and API for one API
	RefAlert      = "alert"     // Name: the alert's name
	RefNode       = "node"      // a Kubernetes node
)

// Resources are CPU in millicores and memory in bytes.
type Resources struct {
	CPUMillis   int64 `json:"cpuMillis"`
	MemoryBytes int64 `json:"memoryBytes"`
}

// Termination is how a container last ended.
type Termination struct {
	Reason     string    `json:"reason"`
	ExitCode   int32     `json:"exitCode"`
	Signal     int32     `json:"signal,omitempty"`
	Message    string    `json:"message,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

// ContainerDetail is one container of a pod.
type ContainerDetail struct {
	Name string `json:"name"`
	// Init marks an init container (they come first, in order).
	Init    bool   `json:"init,omitempty"`
	Image   string `json:"image"`
	ImageID string `json:"imageID,omitempty"` // the digest the node runs
	Ready   bool   `json:"ready"`
	// State is running, waiting or terminated; Reason and Message say why (CrashLoopBackOff,
	// ImagePullBackOff, CreateContainerConfigError, …); Since is when it entered it.
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Message  string    `json:"message,omitempty"`
	Since    time.Time `json:"since"`
	Restarts int32     `json:"restarts"`
	// Exit is how it ended while State is terminated.
	Exit *Termination `json:"exit,omitempty"`
	// LastTermination is the previous instance's end (nil when it never restarted).
	LastTermination *Termination `json:"lastTermination,omitempty"`
	Requests        Resources    `json:"requests"`
	Limits          Resources    `json:"limits"`
	// Usage is what the metrics API measures now (nil when it cannot say).
	Usage *Resources `json:"usage,omitempty"`
	// Probes in one line each ("http-get :8085/healthcheck every 10s, after 5s, 3 failures"),
	// "" when unset.
	Readiness string `json:"readiness,omitempty"`
	Liveness  string `json:"liveness,omitempty"`
	Startup   string `json:"startup,omitempty"`
}

// PodDetail is one pod drilled into: kubectl describe, judged.
type PodDetail struct {
	PodState
	Namespace string `json:"namespace"`
	// Owner is the controller chain: "ReplicaSet traffic-7d9f8 ← Deployment traffic".
	Owner string `json:"owner,omitempty"`
	// NotReady is the one-line judgement of why the pod is not ready ("" when it is).
	NotReady   string            `json:"notReady,omitempty"`
	Conditions []Condition       `json:"conditions"`
	Containers []ContainerDetail `json:"containers"`
	// Restarts are the times the pod's containers (re)started, oldest first, from its events.
	RestartTimes []time.Time `json:"restartTimes,omitempty"`
	Events       []EventInfo `json:"events"`
	// UsageNote says why the containers have no usage ("" when they have it).
	UsageNote string `json:"usageNote,omitempty"`
	// StatusMessage is the pod's own status message (an eviction's, a node's loss).
	StatusMessage string `json:"statusMessage,omitempty"`
	// Gone is true when the pod no longer exists (deleted while its detail was open);
	// GoneSince is when that was seen. The other fields are then the last known.
	Gone      bool      `json:"gone,omitempty"`
	GoneSince time.Time `json:"goneSince,omitempty"`
}

// LogRequest says which log to read.
type LogRequest struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container,omitempty"`
	// Previous reads the last terminated instance's log.
	Previous bool `json:"previous,omitempty"`
	// Follow keeps the stream open for new lines.
	Follow bool `json:"follow,omitempty"`
	// TailLines starts with the last N lines (0: the whole log).
	TailLines int64 `json:"tailLines,omitempty"`
}

// HPADecision is one scaling decision of an HPA, from its events.
type HPADecision struct {
	Time time.Time `json:"time"`
	From int32     `json:"from,omitempty"`
	To   int32     `json:"to"`
	// Reason is what the HPA said ("cpu resource utilization (percentage of request) above
	// target"), with the metric value when the event carries it.
	Reason string `json:"reason"`
	// Metric is the metric the decision followed ("cpu"); Value what the decision implies of
	// it under the HPA's algorithm ("> 82%" of the request for a scale-up from 3 to 4 at a
	// 75 % target), "" when it cannot say.
	Metric string `json:"metric,omitempty"`
	Value  string `json:"value,omitempty"`
	// Count is how many times the same decision was recorded (the event's count); Time is the
	// last.
	Count int32 `json:"count,omitempty"`
}

// DeploymentDetail is a gateway Deployment drilled into: its revisions, its HPA's recent
// decisions, and why it cannot scale further.
type DeploymentDetail struct {
	Workload  Workload      `json:"workload"`
	Revisions []Revision    `json:"revisions"`
	HPA       *HPAState     `json:"hpa,omitempty"`
	Decisions []HPADecision `json:"decisions,omitempty"`
	// ScaleLimit says what stops it growing ("at its maximum of 12", "no CPU metrics",
	// "2 pods unschedulable: insufficient cpu"), "" when nothing does.
	ScaleLimit string      `json:"scaleLimit,omitempty"`
	Events     []EventInfo `json:"events,omitempty"`
}

// Revision is one entry of a Deployment's history (its ReplicaSets).
type Revision struct {
	Revision    int64     `json:"revision"`
	Image       string    `json:"image"`
	Created     time.Time `json:"created"`
	Replicas    int32     `json:"replicas"`
	ChangeCause string    `json:"changeCause,omitempty"`
	Current     bool      `json:"current"`
}

// PeerView is how one node of the ring sees another.
type PeerView struct {
	Observer string `json:"observer"` // the node that answered
	Peer     string `json:"peer"`
	// State is the peer's gossip status word (NORMAL, LEAVING, shutdown, …), "unknown" when
	// the observer's gossiper has no state for it.
	State string `json:"state"`
	// Up is whether the observer can talk to the peer now: itself, or an open messaging
	// connection (system_views.internode_outbound), and not announced shut down.
	Up     bool   `json:"up"`
	Schema string `json:"schema,omitempty"`
	// LoadBytes is the peer's load as the observer's gossip says (its live data on disk).
	LoadBytes int64 `json:"loadBytes,omitempty"`
}

// ThreadPool is one of a Cassandra node's thread pools.
type ThreadPool struct {
	Name    string `json:"name"`
	Active  int64  `json:"active"`
	Pending int64  `json:"pending"`
	Blocked int64  `json:"blocked"`
	// AllTimeBlocked counts tasks ever blocked.
	AllTimeBlocked int64 `json:"allTimeBlocked"`
}

// CassandraClient is the connections to a Cassandra node from one client address, user and
// driver.
type CassandraClient struct {
	Address     string `json:"address"`
	User        string `json:"user,omitempty"`
	Driver      string `json:"driver,omitempty"`
	Connections int    `json:"connections"`
	Requests    int64  `json:"requests"`
	SSL         bool   `json:"ssl"`
}

// Compaction is a running compaction (or cleanup, scrub, …) of a node.
type Compaction struct {
	Keyspace string  `json:"keyspace"`
	Table    string  `json:"table"`
	Kind     string  `json:"kind"`
	Percent  float64 `json:"percent"`
}

// TableLatency is one table's local latency on a node.
type TableLatency struct {
	Keyspace       string        `json:"keyspace"`
	Table          string        `json:"table"`
	ReadsPerSecond float64       `json:"readsPerSecond"`
	ReadP99        time.Duration `json:"readP99"`
	WritesPerSec   float64       `json:"writesPerSecond"`
	WriteP99       time.Duration `json:"writeP99"`
}

// CassandraNodeDetail is one Cassandra node drilled into, from its virtual tables
// (system_views) and the system keyspace: no JMX.
type CassandraNodeDetail struct {
	Node CassandraNode `json:"node"`
	// Status is the node's gossip status word (NORMAL, shutdown, …) as the others see it.
	Status string `json:"status"`
	// Peers is the ring as each reachable node sees it.
	Peers     []PeerView `json:"peers"`
	LoadBytes int64      `json:"loadBytes"`
	Tokens    int        `json:"tokens"`
	// OwnershipPercent is the share of the token ring the node is primary for;
	// EffectiveOwnershipPercent the share it holds a replica of in EffectiveKeyspace (the user
	// keyspace with the highest replication factor), as nodetool status KEYSPACE says.
	OwnershipPercent          float64 `json:"ownershipPercent"`
	EffectiveOwnershipPercent float64 `json:"effectiveOwnershipPercent,omitempty"`
	EffectiveKeyspace         string  `json:"effectiveKeyspace,omitempty"`
	SchemaVersion             string  `json:"schemaVersion,omitempty"`
	// SchemaAgreed is true when every node that answered reports the same schema version.
	SchemaAgreed bool `json:"schemaAgreed"`
	// PendingCompactions are compactions queued behind the running ones (the compaction
	// executor's pending tasks); Compactions those running now.
	PendingCompactions int64        `json:"pendingCompactions"`
	Compactions        []Compaction `json:"compactions,omitempty"`
	// ThreadPools, backlogs first.
	ThreadPools []ThreadPool `json:"threadPools"`
	// ReadLatencyP99 and WriteLatencyP99 are the worst table's p99 among the tables that
	// served requests; Tables the busiest tables.
	ReadLatencyP99  time.Duration     `json:"readLatencyP99"`
	WriteLatencyP99 time.Duration     `json:"writeLatencyP99"`
	Tables          []TableLatency    `json:"tables,omitempty"`
	Clients         []CassandraClient `json:"clients"`
	// Unreachable is set when the node could not be asked; the other fields then come
	// from its peers.
	Unreachable string `json:"unreachable,omitempty"`
	// Problems are the parts that could not be read (a virtual table this version lacks, a
	// peer that did not answer).
	Problems []string `json:"problems,omitempty"`
}

// MySQLConnection is one row of the process list.
type MySQLConnection struct {
	ID      int64         `json:"id"`
	User    string        `json:"user"`
	Host    string        `json:"host"`
	DB      string        `json:"db,omitempty"`
	Command string        `json:"command"`
	Time    time.Duration `json:"time"`
	State   string        `json:"state,omitempty"`
	// Info is the statement, cut to a line.
	Info string `json:"info,omitempty"`
}

// TableSize is one table of the metrics database.
type TableSize struct {
	Name       string `json:"name"`
	Rows       int64  `json:"rows"` // the engine's estimate
	DataBytes  int64  `json:"dataBytes"`
	IndexBytes int64  `json:"indexBytes"`
}

// MySQLDetail is the metrics database drilled into.
type MySQLDetail struct {
	Database string     `json:"database"`
	State    MySQLState `json:"state"`
	// Connections, running statements first, longest-running first (SortConnections). A user
	// without the PROCESS privilege sees only its own.
	Connections []MySQLConnection `json:"connections"`
	// Tables, largest first.
	Tables []TableSize `json:"tables"`
	// Problems are the parts that could not be read.
	Problems []string `json:"problems,omitempty"`
}

// Series is a time series at a fixed step, oldest first (NaN where Prometheus had no value).
type Series struct {
	Start  time.Time     `json:"start"`
	Step   time.Duration `json:"step"`
	Values []float64     `json:"values"`
}

// CodeRate is one kind of error's average rate over the window: a status class ("5xx"),
// with Reason when the gateway says more (a policy's rejection reason, "upstream error").
type CodeRate struct {
	Code   string  `json:"code"`
	Reason string  `json:"reason,omitempty"`
	RPS    float64 `json:"rps"`
}

// PodRate is a pod's share of a traffic series, now.
type PodRate struct {
	Namespace  string  `json:"namespace,omitempty"`
	Pod        string  `json:"pod"`
	RPS        float64 `json:"rps"`
	ErrorRatio float64 `json:"errorRatio"`
}

// TrafficDetail is one group's or API's traffic over the last minutes, from Prometheus range
// queries.
type TrafficDetail struct {
	Group      string     `json:"group"`
	API        string     `json:"api,omitempty"`
	RPS        Series     `json:"rps"`
	P50        Series     `json:"p50Seconds"`
	P90        Series     `json:"p90Seconds"`
	P99        Series     `json:"p99Seconds"`
	ErrorRatio Series     `json:"errorRatio"`
	TopErrors  []CodeRate `json:"topErrors"`
	Pods       []PodRate  `json:"pods"`
	// Window is how far back the series go.
	Window time.Duration `json:"window"`
}

// Alert is a firing or pending alert of Prometheus, with the resource it names.
type Alert struct {
	Name     string `json:"name"`
	State    string `json:"state"` // firing, pending
	Severity string `json:"severity,omitempty"`
	Summary  string `json:"summary,omitempty"`
	// Value is the alert expression's value when it was last evaluated ("0.32").
	Value  string            `json:"value,omitempty"`
	Since  time.Time         `json:"since"`
	Labels map[string]string `json:"labels,omitempty"`
	// Subject is the resource the alert names ("pod/traffic-x", "cassandra 127.0.0.2",
	// "hpa/traffic"), Ref the drill-down it links to.
	Subject string `json:"subject,omitempty"`
	Ref     *Ref   `json:"ref,omitempty"`
}
