package configs

// The raw types mirror the file as written. Decoding fills them strictly (an unknown key
// is an error); validate turns them into the exported, checked values. Durations, zones
// and the like stay strings here so that their errors can name the path and the value.
// Pointers mark keys whose absence means a default rather than a zero.

type rawConfig struct {
	StateDir  string        `yaml:"state_dir"`
	Mail      *rawMail      `yaml:"mail"`
	Scripts   []rawScript   `yaml:"scripts"`
	Vendors   []rawVendor   `yaml:"vendors"`
	Summary   *rawSummary   `yaml:"summary"`
	HTTP      *rawHTTP      `yaml:"http"`
	Dashboard *rawDashboard `yaml:"dashboard"`
	Alerts    *rawAlerts    `yaml:"alerts"`
	Control   *rawControl   `yaml:"control"`
}

type rawControl struct {
	Group string `yaml:"group"`
}

type rawMail struct {
	Provider       string     `yaml:"provider"`
	From           string     `yaml:"from"`
	PlusAddressing bool       `yaml:"plus_addressing"`
	SMTP           *rawServer `yaml:"smtp"`
	IMAP           *rawIMAP   `yaml:"imap"`
	OAuth2         *rawOAuth2 `yaml:"oauth2"`
}

type rawOAuth2 struct {
	Provider         string   `yaml:"provider"`
	ClientID         string   `yaml:"client_id"`
	ClientSecretFile string   `yaml:"client_secret_file"`
	ClientSecretEnv  string   `yaml:"client_secret_env"`
	Tenant           string   `yaml:"tenant"`
	DeviceURL        string   `yaml:"device_url"`
	TokenURL         string   `yaml:"token_url"`
	Scopes           []string `yaml:"scopes"`
}

type rawServer struct {
	Host     string `yaml:"host"`
	Port     *int   `yaml:"port"`
	Security string `yaml:"security"`
	Auth     string `yaml:"auth"`
	Username string `yaml:"username"`
	// Password is accepted by the decoder only so that validation can explain that
	// secrets belong in password_file or password_env.
	Password     *string `yaml:"password"`
	PasswordFile string  `yaml:"password_file"`
	PasswordEnv  string  `yaml:"password_env"`
	Timeout      string  `yaml:"timeout"`
	CAFile       string  `yaml:"ca_file"`
	ServerName   string  `yaml:"server_name"`
}

type rawIMAP struct {
	rawServer  `yaml:",inline"`
	Folders    []string `yaml:"folders"`
	SentFolder *string  `yaml:"sent_folder"`
	AppendSent *bool    `yaml:"append_sent"`
}

type rawScript struct {
	ID        string            `yaml:"id"`
	Language  string            `yaml:"language"`
	Priority  string            `yaml:"priority"`
	Subject   string            `yaml:"subject"`
	Body      string            `yaml:"body"`
	Vars      map[string]string `yaml:"vars"`
	Followups []rawFollowup     `yaml:"followups"`
}

type rawFollowup struct {
	AfterResponse string `yaml:"after_response"`
	IfUnanswered  string `yaml:"if_unanswered"`
	Body          string `yaml:"body"`
}

type rawVendor struct {
	Name          string            `yaml:"name"`
	To            []string          `yaml:"to"`
	Domains       []string          `yaml:"domains"`
	Timezone      string            `yaml:"timezone"`
	BusinessHours *rawHours         `yaml:"business_hours"`
	SLA           map[string]rawSLA `yaml:"sla"`
	Deadline      string            `yaml:"deadline"`
	TicketKey     string            `yaml:"ticket_key"`
	Schedules     []rawSchedule     `yaml:"schedules"`
	Limits        *rawLimits        `yaml:"limits"`
	Rules         []rawRule         `yaml:"rules"`
	Pause         []rawPause        `yaml:"pause"`
}

type rawPause struct {
	From  string `yaml:"from"`
	Until string `yaml:"until"`
	Note  string `yaml:"note"`
}

type rawRule struct {
	Name    string `yaml:"name"`
	From    string `yaml:"from"`
	Subject string `yaml:"subject"`
	Kind    string `yaml:"kind"`
}

type rawHours struct {
	Days     []string `yaml:"days"`
	Open     string   `yaml:"open"`
	Close    string   `yaml:"close"`
	Holidays []string `yaml:"holidays"`
}

type rawSLA struct {
	FirstResponse string `yaml:"first_response"`
	Clock         string `yaml:"clock"`
}

type rawSchedule struct {
	Cron     string   `yaml:"cron"`
	Timezone string   `yaml:"timezone"`
	Scripts  []string `yaml:"scripts"`
	Jitter   string   `yaml:"jitter"`
}

type rawLimits struct {
	MaxPerDay  int    `yaml:"max_per_day"`
	MaxPerWeek int    `yaml:"max_per_week"`
	MinSpacing string `yaml:"min_spacing"`
}

type rawSummary struct {
	Cron     string   `yaml:"cron"`
	Timezone string   `yaml:"timezone"`
	To       []string `yaml:"to"`
}

type rawHTTP struct {
	Listen            string       `yaml:"listen"`
	AllowRemote       bool         `yaml:"allow_remote"`
	Auth              *rawHTTPAuth `yaml:"auth"`
	CertFile          string       `yaml:"cert_file"`
	KeyFile           string       `yaml:"key_file"`
	InsecurePlaintext bool         `yaml:"insecure_plaintext"`
}

type rawDashboard struct {
	ReadOnly *bool `yaml:"read_only"`
}

type rawHTTPAuth struct {
	BearerTokensFile string `yaml:"bearer_tokens_file"`
	BasicFile        string `yaml:"basic_file"`
}

type rawAlerts struct {
	Webhooks         []rawWebhook   `yaml:"webhooks"`
	Email            *rawAlertEmail `yaml:"email"`
	Command          []string       `yaml:"command"`
	WatcherDownAfter string         `yaml:"watcher_down_after"`
	WaitingAfter     string         `yaml:"waiting_after"`
	DiskFreeBelow    string         `yaml:"disk_free_below"`
	MaxPerHour       *int           `yaml:"max_per_hour"`
}

type rawWebhook struct {
	Name       string `yaml:"name"`
	URL        string `yaml:"url"`
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
	Format     string `yaml:"format"`
	Timeout    string `yaml:"timeout"`
}

type rawAlertEmail struct {
	To []string `yaml:"to"`
}
