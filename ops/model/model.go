package model

import "time"

// Snapshot is the console's whole view of one deployment at one moment: what the TUI renders,
// what `status` prints and what the checks judge. It is a value: the live model publishes a
// fresh copy, and nobody mutates one after publishing. JSON names are stable (`status -o json`).
type Snapshot struct {
	Taken     time.Time `json:"taken"`
	Context   string    `json:"context"`
	Namespace string    `json:"namespace"`
	// Identity is who the API server says we are; Access what it lets us do.
	Identity string `json:"identity"`
	ReadOnly bool   `json:"readOnly"`
	Access   Access `json:"access"`

	// Sources are kube, cassandra, mysql and prometheus, in that order, each with its own
	// freshness: a failing source keeps its last data and says so.
	Sources []SourceState `json:"sources"`

	Topology  Topology       `json:"topology"`
	Nodes     []NodeState    `json:"nodes"`
	Cassandra CassandraState `json:"cassandra"`
	MySQL     MySQLState     `json:"mysql"`
	Traffic   TrafficState   `json:"traffic"`
	// Alerts are Prometheus's firing and pending alerts (SortAlerts order), read with the
	// traffic.
	Alerts []Alert     `json:"alerts"`
	Events []EventInfo `json:"events"`
	// Backups are the newest backup, its age and the schedule (apimctl backup schedule).
	Backups  BackupStatus `json:"backups"`
	Findings []Finding    `json:"findings"`
}

// Source names, in display order.
const (
	SourceKube       = "kube"
	SourceCassandra  = "cassandra"
	SourceMySQL      = "mysql"
	SourcePrometheus = "prometheus"
)

// SourceState is the freshness of one source.
type SourceState struct {
	Name        string    `json:"name"`
	Endpoint    string    `json:"endpoint"`
	Synced      bool      `json:"synced"` // has had at least one success
	LastSuccess time.Time `json:"lastSuccess"`
	LastAttempt time.Time `json:"lastAttempt"`
	// Stale is true when the last success is older than the source's staleness bound.
	Stale bool   `json:"stale"`
	Error string `json:"error,omitempty"`
}

// Source returns the named source's state (zero value if absent).
func (s *Snapshot) Source(name string) SourceState {
	for _, src := range s.Sources {
		if src.Name == name {
			return src
		}
	}
	return SourceState{Name: name}
}

// Roles of the reference architecture.
const (
	RoleANM        = "anm"     // Admin Node Manager
	RoleAPIManager = "apimgr"  // API Manager UI
	RoleTraffic    = "traffic" // traffic gateway
)

// Topology is the deployment's shape, discovered from labels.
type Topology struct {
	// ANM holds the Admin Node Manager workloads (normally one).
	ANM []Workload `json:"anm"`
	// Groups are the API gateway groups, sorted by name.
	Groups  []GatewayGroup `json:"groups"`
	Ingress []IngressState `json:"ingress"`
	// Unclassified are workloads in the namespace whose role could not be told.
	Unclassified []Workload `json:"unclassified,omitempty"`
}

// GatewayGroup is one API gateway group: its traffic gateways, its API Manager UI and the HPA
// that scales the traffic gateways.
type GatewayGroup struct {
	Name       string     `json:"name"`
	Traffic    []Workload `json:"traffic"`
	APIManager []Workload `json:"apiManager"`
	HPA        *HPAState  `json:"hpa,omitempty"`
}

// Workload is a Deployment (or StatefulSet) with its pods.
type Workload struct {
	Kind      string `json:"kind"` // Deployment, StatefulSet
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Role      string `json:"role"`
	Group     string `json:"group,omitempty"`

	Desired   int32 `json:"desired"`   // spec.replicas
	Current   int32 `json:"current"`   // status.replicas (all revisions)
	Ready     int32 `json:"ready"`     // status.readyReplicas
	Updated   int32 `json:"updated"`   // status.updatedReplicas
	Available int32 `json:"available"` // status.availableReplicas
	// Image of the first container; Tag its tag ("" when by digest only).
	Image string `json:"image"`
	Tag   string `json:"tag"`
	// Revision is the deployment.kubernetes.io/revision annotation.
	Revision string `json:"revision"`
	// RolloutInProgress is true while the Deployment has not converged on its spec.
	RolloutInProgress bool   `json:"rolloutInProgress"`
	Paused            bool   `json:"paused"`
	Strategy          string `json:"strategy"` // RollingUpdate, Recreate
	MaxSurge          string `json:"maxSurge"`
	MaxUnavailable    string `json:"maxUnavailable"`

	// Per container (first container) settings the checks read.
	CPURequest     string `json:"cpuRequest"`
	CPULimit       string `json:"cpuLimit"`
	MemoryRequest  string `json:"memoryRequest"`
	MemoryLimit    string `json:"memoryLimit"`
	ReadinessProbe bool   `json:"readinessProbe"`
	LivenessProbe  bool   `json:"livenessProbe"`
	// AntiAffinityHost/Zone: the pod template asks to spread replicas over nodes / zones.
	AntiAffinityHost bool `json:"antiAffinityHost"`
	AntiAffinityZone bool `json:"antiAffinityZone"`
	// NodePool is the agentpool the pod template requires ("" when not pinned).
	NodePool string `json:"nodePool"`

	Pods []PodState `json:"pods"`
	// Conditions of the Deployment (Available, Progressing, ReplicaFailure).
	Conditions []Condition `json:"conditions,omitempty"`
}

// PodState is one pod, as the pod views show it.
type PodState struct {
	Name        string    `json:"name"`
	Phase       string    `json:"phase"`
	Ready       bool      `json:"ready"`
	Terminating bool      `json:"terminating"`
	Restarts    int32     `json:"restarts"`
	Node        string    `json:"node"`
	Zone        string    `json:"zone"`
	IP          string    `json:"ip"`
	Image       string    `json:"image"`
	Tag         string    `json:"tag"`
	Created     time.Time `json:"created"`
	// Reason explains a pod that is not ready (CrashLoopBackOff, Unschedulable, …).
	Reason string `json:"reason,omitempty"`
}

// Condition is a Kubernetes status condition.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// HPAState is a HorizontalPodAutoscaler as the HPA views show it.
type HPAState struct {
	Name    string `json:"name"`
	Target  string `json:"target"` // Deployment name
	Min     int32  `json:"min"`
	Max     int32  `json:"max"`
	Current int32  `json:"current"`
	Desired int32  `json:"desired"`
	// CPUTargetPercent is the average utilisation target (0 when none); CPUCurrentPercent
	// the observed one (nil when unknown, e.g. no metrics).
	CPUTargetPercent  int32       `json:"cpuTargetPercent"`
	CPUCurrentPercent *int32      `json:"cpuCurrentPercent,omitempty"`
	LastScaleTime     *time.Time  `json:"lastScaleTime,omitempty"`
	Conditions        []Condition `json:"conditions,omitempty"`
	// Events are the HPA's recent events (SuccessfulRescale, FailedGetResourceMetric…).
	Events []EventInfo `json:"events,omitempty"`
}

// IngressState is an Ingress: hosts, TLS and the minimum protocol it asks for.
type IngressState struct {
	Name  string   `json:"name"`
	Class string   `json:"class"`
	Hosts []string `json:"hosts"`
	// TLSHosts are the hosts covered by a tls entry.
	TLSHosts []string `json:"tlsHosts"`
	// MinTLS is the lowest protocol the annotations allow ("TLSv1.2"), "" when unset.
	MinTLS string `json:"minTLS"`
	// Backends maps host to "service:port".
	Backends map[string]string `json:"backends"`
}

// NodeState is a node with its capacity and what pods request of it.
type NodeState struct {
	Name  string `json:"name"`
	Pool  string `json:"pool"` // agentpool label
	Zone  string `json:"zone"`
	Ready bool   `json:"ready"`
	// Allocatable and Requested CPU in millicores and memory in bytes.
	CPUAllocatable    int64 `json:"cpuAllocatableMillis"`
	CPURequested      int64 `json:"cpuRequestedMillis"`
	MemoryAllocatable int64 `json:"memoryAllocatableBytes"`
	MemoryRequested   int64 `json:"memoryRequestedBytes"`
	Pods              int   `json:"pods"`
}

// CassandraState is the ring as the driver sees it.
type CassandraState struct {
	Nodes []CassandraNode `json:"nodes"`
	// SchemaVersions is the number of distinct schema versions among up nodes (1 = agreement).
	SchemaVersions int             `json:"schemaVersions"`
	Keyspaces      []KeyspaceState `json:"keyspaces"`
}

// CassandraNode is one node.
type CassandraNode struct {
	Address string `json:"address"`
	DC      string `json:"dc"`
	Rack    string `json:"rack"`
	Version string `json:"version"`
	HostID  string `json:"hostID"`
	Up      bool   `json:"up"`
}

// KeyspaceState is a keyspace's replication and whether QUORUM is reachable now.
type KeyspaceState struct {
	Name              string `json:"name"`
	Strategy          string `json:"strategy"`
	ReplicationFactor int    `json:"replicationFactor"`
	// Quorum is floor(RF/2)+1; ReplicasUp the fewest replicas up for any token range.
	Quorum          int  `json:"quorum"`
	ReplicasUp      int  `json:"replicasUp"`
	QuorumReachable bool `json:"quorumReachable"`
	// Tables are the keyspace's tables, sorted (what two sites compare for schema drift).
	Tables []string `json:"tables,omitempty"`
}

// MySQLState is the metrics database.
type MySQLState struct {
	Reachable         bool          `json:"reachable"`
	Version           string        `json:"version"`
	Uptime            time.Duration `json:"uptime"`
	ThreadsConnected  int           `json:"threadsConnected"`
	MaxConnections    int           `json:"maxConnections"`
	TLS               bool          `json:"tls"`
	TLSVersion        string        `json:"tlsVersion,omitempty"`
	Replica           *ReplicaState `json:"replica,omitempty"`
	DatabaseSizeBytes int64         `json:"databaseSizeBytes"`
}

// ReplicaState is set when the database is a replica.
type ReplicaState struct {
	IORunning  bool   `json:"ioRunning"`
	SQLRunning bool   `json:"sqlRunning"`
	LagSeconds *int64 `json:"lagSeconds,omitempty"`
	LastError  string `json:"lastError,omitempty"`
}

// TrafficState is what Prometheus says of the gateways' traffic.
type TrafficState struct {
	// NoData is true when Prometheus answered but has no gateway series yet ("no data yet"
	// is a state, not an error).
	NoData bool            `json:"noData"`
	Groups []TrafficSeries `json:"groups"`
	APIs   []TrafficSeries `json:"apis"`
}

// TrafficSeries is the current rate, p90 latency and 5xx ratio of a group or an API, with a
// short history (oldest first) for sparklines.
type TrafficSeries struct {
	Group      string    `json:"group"`
	API        string    `json:"api,omitempty"`
	RPS        float64   `json:"rps"`
	P90Seconds float64   `json:"p90Seconds"`
	ErrorRatio float64   `json:"errorRatio"`
	RPSHistory []float64 `json:"rpsHistory"`
	P90History []float64 `json:"p90History"`
	ErrHistory []float64 `json:"errHistory"`
}

// EventInfo is a Kubernetes event.
type EventInfo struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"` // Normal, Warning
	Reason  string    `json:"reason"`
	Object  string    `json:"object"` // kind/name
	Message string    `json:"message"`
	Count   int32     `json:"count"`
}

// Severity of a finding.
type Severity string

const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Rank orders severities (error highest).
func (s Severity) Rank() int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// Finding is one result of a check: what is wrong, where, and how to fix it.
type Finding struct {
	ID       string   `json:"id"` // e.g. APIM-CASS-001
	Severity Severity `json:"severity"`
	Subject  string   `json:"subject"` // what it is about: "deployment/traffic", "keyspace apim_default"
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
}

// Access is what the current identity may do in the namespace, as the API server answered.
type Access struct {
	// Known is false when the API server could not be asked.
	Known bool `json:"known"`
	// Verbs maps an action to whether it is allowed: "deployments/patch", "pods/delete",
	// "deployments/scale", "secrets/get", "horizontalpodautoscalers/patch"…
	Allowed map[string]bool `json:"allowed"`
}

// Can reports whether action is allowed (unknown access allows nothing).
func (a Access) Can(action string) bool { return a.Known && a.Allowed[action] }
