"""Rollback criteria as the execution engine reads them (op, for_s in seconds, automatic)
and the rollback plan's steps, kept apart from forward progress."""

import django.db.models.deletion
from django.db import migrations, models


def durations_to_seconds(apps, schema_editor):
    Criterion = apps.get_model("deployments", "RollbackCriterion")
    for c in Criterion.objects.exclude(duration=None).only("id", "duration"):
        Criterion.objects.filter(pk=c.pk).update(for_s=int(c.duration.total_seconds()))


def seconds_to_durations(apps, schema_editor):
    from datetime import timedelta

    Criterion = apps.get_model("deployments", "RollbackCriterion")
    for c in Criterion.objects.exclude(for_s=None).only("id", "for_s"):
        Criterion.objects.filter(pk=c.pk).update(duration=timedelta(seconds=c.for_s))


class Migration(migrations.Migration):
    dependencies = [("deployments", "0004_status_line"), ("people", "0001_initial")]

    operations = [
        migrations.RenameField("rollbackcriterion", "comparison", "op"),
        migrations.AlterField(
            "rollbackcriterion",
            "op",
            models.CharField(default=">", help_text="> >= < <= == !=", max_length=2),
        ),
        migrations.AddField(
            "rollbackcriterion",
            "for_s",
            models.PositiveIntegerField(
                blank=True, null=True, help_text="Seconds the condition must hold; empty: at once."
            ),
        ),
        migrations.RunPython(durations_to_seconds, seconds_to_durations),
        migrations.RemoveField("rollbackcriterion", "duration"),
        migrations.AddField(
            "rollbackcriterion",
            "automatic",
            models.BooleanField(
                default=False, help_text="The runbook says to roll back without asking anyone."
            ),
        ),
        migrations.CreateModel(
            name="RollbackStep",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("order", models.PositiveIntegerField(default=0)),
                ("text", models.TextField()),
                ("verification", models.TextField(blank=True)),
                (
                    "owner_role",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="people.role",
                    ),
                ),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="children",
                        to="deployments.rollbackstep",
                    ),
                ),
                (
                    "release",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rollback_steps",
                        to="deployments.release",
                    ),
                ),
            ],
            options={"ordering": ["release", "order", "id"]},
        ),
    ]
