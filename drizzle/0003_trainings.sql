CREATE TABLE "training_checkpoints" (
	"training_id" uuid PRIMARY KEY NOT NULL,
	"attempt" integer NOT NULL,
	"state" jsonb NOT NULL,
	"folder" "bytea" NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trainings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "trainings_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"dataset_ids" uuid[] NOT NULL,
	"core_id" uuid,
	"recipe" jsonb NOT NULL,
	"job_id" uuid NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"worker" text,
	"device" text,
	"lease_expires_at" timestamp with time zone,
	"member" integer DEFAULT 0 NOT NULL,
	"epoch" integer DEFAULT 0 NOT NULL,
	"step" integer DEFAULT 0 NOT NULL,
	"steps" integer DEFAULT 0 NOT NULL,
	"best_val_loss" double precision,
	"last_val_loss" double precision,
	"best_val_correlation" double precision,
	"last_val_correlation" double precision,
	"history" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"model_id" uuid,
	"error" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"progress_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "training_checkpoints" ADD CONSTRAINT "training_checkpoints_training_id_trainings_id_fk" FOREIGN KEY ("training_id") REFERENCES "public"."trainings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trainings" ADD CONSTRAINT "trainings_core_id_models_id_fk" FOREIGN KEY ("core_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trainings" ADD CONSTRAINT "trainings_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "trainings_seq" ON "trainings" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "trainings_status" ON "trainings" USING btree ("status","lease_expires_at");--> statement-breakpoint
CREATE INDEX "trainings_job" ON "trainings" USING btree ("job_id");