CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"detail" jsonb NOT NULL,
	"remote_addr" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "components" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"version" text NOT NULL,
	"sha256" text NOT NULL,
	"size" bigint NOT NULL,
	"path" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "host_addrs" (
	"agent_id" text NOT NULL,
	"addr" text NOT NULL,
	CONSTRAINT "host_addrs_pk" PRIMARY KEY("agent_id","addr")
);
--> statement-breakpoint
CREATE TABLE "host_tags" (
	"agent_id" text NOT NULL,
	"tag" text NOT NULL,
	CONSTRAINT "host_tags_pk" PRIMARY KEY("agent_id","tag")
);
--> statement-breakpoint
CREATE TABLE "hosts" (
	"agent_id" text PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"intranet_ipv4" jsonb NOT NULL,
	"extranet_ipv4" jsonb NOT NULL,
	"intranet_ipv6" jsonb NOT NULL,
	"extranet_ipv6" jsonb NOT NULL,
	"version" text NOT NULL,
	"product" text NOT NULL,
	"ac_addr" text NOT NULL,
	"first_seen_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL,
	"facts" jsonb NOT NULL,
	"plugins" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"scope" text PRIMARY KEY NOT NULL,
	"components" jsonb NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"revoked_at" bigint,
	"remote_addr" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sub_tasks" (
	"task_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"token" text NOT NULL,
	"status" text NOT NULL,
	"msg" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "sub_tasks_pk" PRIMARY KEY("task_id","agent_id")
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"data_type" integer NOT NULL,
	"object_name" text NOT NULL,
	"data" text NOT NULL,
	"target" jsonb NOT NULL,
	"state" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"timeout_ms" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"role" text NOT NULL,
	"password_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "host_addrs" ADD CONSTRAINT "host_addrs_agent_id_hosts_agent_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."hosts"("agent_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_tags" ADD CONSTRAINT "host_tags_agent_id_hosts_agent_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."hosts"("agent_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sub_tasks" ADD CONSTRAINT "sub_tasks_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at","id");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor","at");--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" USING btree ("action","at");--> statement-breakpoint
CREATE UNIQUE INDEX "components_name_version_uq" ON "components" USING btree ("name","version");--> statement-breakpoint
CREATE INDEX "components_type_idx" ON "components" USING btree ("type");--> statement-breakpoint
CREATE INDEX "host_addrs_addr_idx" ON "host_addrs" USING btree ("addr");--> statement-breakpoint
CREATE INDEX "host_tags_tag_idx" ON "host_tags" USING btree ("tag","agent_id");--> statement-breakpoint
CREATE INDEX "hosts_hostname_idx" ON "hosts" USING btree ("hostname","agent_id");--> statement-breakpoint
CREATE INDEX "hosts_last_seen_at_idx" ON "hosts" USING btree ("last_seen_at");--> statement-breakpoint
CREATE INDEX "hosts_version_idx" ON "hosts" USING btree ("version");--> statement-breakpoint
CREATE INDEX "sessions_user_id_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sub_tasks_token_uq" ON "sub_tasks" USING btree ("token");--> statement-breakpoint
CREATE INDEX "sub_tasks_task_status_idx" ON "sub_tasks" USING btree ("task_id","status");--> statement-breakpoint
CREATE INDEX "sub_tasks_agent_id_idx" ON "sub_tasks" USING btree ("agent_id");--> statement-breakpoint
CREATE INDEX "sub_tasks_status_updated_idx" ON "sub_tasks" USING btree ("status","updated_at");--> statement-breakpoint
CREATE INDEX "tasks_created_at_idx" ON "tasks" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_uq" ON "users" USING btree ("username");--> statement-breakpoint
CREATE INDEX "users_created_at_idx" ON "users" USING btree ("created_at");